// Shims for OpenSSL's libcrypto. Only the EVP digest API is used (SHA256_Init and friends are
// deprecated in OpenSSL 3); EVP_MD_CTX is opaque, so Swift owns it through these calls.
#ifndef HUBMIRROR_CCRYPTO_SHIM_H
#define HUBMIRROR_CCRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/crypto.h>

static inline int hm_evp_max_md_size(void) { return EVP_MAX_MD_SIZE; }
#endif
