// Shims for OpenSSL's libcrypto. Only the EVP digest API is used (SHA256_Init and friends are
// deprecated in OpenSSL 3); EVP_MD_CTX is opaque, so Swift owns it through these calls.
// Ed25519 keys go through EVP_PKEY and PEM (bundle signing); BIO_get_mem_data is a macro over the
// variadic-free but untyped BIO_ctrl, so it gets a typed wrapper here.
#ifndef HUBMIRROR_CCRYPTO_SHIM_H
#define HUBMIRROR_CCRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/err.h>

static inline int hm_evp_max_md_size(void) { return EVP_MAX_MD_SIZE; }

static inline int hm_evp_pkey_ed25519(void) { return EVP_PKEY_ED25519; }

/// The bytes a memory BIO holds: sets *data and returns their count.
static inline long hm_bio_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }
#endif
