// Shims for libcurl. Swift cannot call C variadic functions (curl_easy_setopt, curl_easy_getinfo,
// curl_multi_setopt) nor see macro constants, so each gets a typed static inline wrapper here.
#ifndef HUBMIRROR_CCURL_SHIM_H
#define HUBMIRROR_CCURL_SHIM_H
#include <curl/curl.h>
#include <stddef.h>

typedef size_t (*hm_curl_data_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef int (*hm_curl_xferinfo_cb)(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode hm_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode hm_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode hm_easy_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode hm_easy_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode hm_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode hm_easy_setopt_data_cb(CURL *h, CURLoption o, hm_curl_data_cb v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode hm_easy_setopt_xferinfo_cb(CURL *h, hm_curl_xferinfo_cb v) { return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, v); }

static inline CURLcode hm_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode hm_easy_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode hm_easy_getinfo_string(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode hm_easy_getinfo_pointer(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }

static inline CURLMcode hm_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

static inline long hm_global_all(void) { return CURL_GLOBAL_ALL; }
static inline size_t hm_write_pause(void) { return CURL_WRITEFUNC_PAUSE; }
static inline long hm_http_version_2tls(void) { return CURL_HTTP_VERSION_2TLS; }
static inline long hm_http_version_1_1(void) { return CURL_HTTP_VERSION_1_1; }
static inline long hm_pipe_multiplex(void) { return CURLPIPE_MULTIPLEX; }
static inline int hm_msg_done(void) { return CURLMSG_DONE; }
static inline CURLcode hm_msg_result(CURLMsg *m) { return m->data.result; }
static inline int hm_pause_cont(void) { return CURLPAUSE_CONT; }
static inline CURL *hm_msg_easy(CURLMsg *m) { return m->easy_handle; }
static inline int hm_msg_is_done(CURLMsg *m) { return m->msg == CURLMSG_DONE; }
#endif
