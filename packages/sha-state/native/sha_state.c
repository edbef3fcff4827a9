/*
 * Resumable SHA-256/SHA-512 on top of the OpenSSL that Node itself carries.
 *
 * The context (SHA256_CTX / SHA512_CTX) lives in a JS-owned, 8-byte-aligned
 * Uint8Array, so the garbage collector owns its lifetime and no finalizer or
 * napi_wrap is needed. Every function only borrows typed-array memory for the
 * duration of the call; nothing is retained across calls.
 *
 * save/load convert the context to and from Go's crypto/sha256 and
 * crypto/sha512 MarshalBinary layout (checked for magic and size by the JS side
 * as well): magic | h[8] big-endian | block buffer, zero-padded after the
 * pending bytes | uint64 big-endian byte count.
 *
 * The SHA*_Init/Update/Final functions are deprecated in OpenSSL 3 in favour of
 * EVP, but EVP contexts are opaque and cannot be exported; these low-level
 * ones are still exported by the node binary and are exactly what we need.
 */
#define NAPI_VERSION 8
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <node_api.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

#define GO256_SIZE (4 + 8 * 4 + SHA256_CBLOCK + 8)  /* 108 */
#define GO512_SIZE (4 + 8 * 8 + SHA512_CBLOCK + 8)  /* 204 */

static const uint8_t MAGIC256[4] = {'s', 'h', 'a', 0x03};
static const uint8_t MAGIC512[4] = {'s', 'h', 'a', 0x07};

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v) {
  put_be32(p, (uint32_t)(v >> 32));
  put_be32(p + 4, (uint32_t)v);
}

static uint32_t get_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t get_be64(const uint8_t *p) {
  return ((uint64_t)get_be32(p) << 32) | get_be32(p + 4);
}

/* Borrows the bytes of a Uint8Array argument. Returns 0 (with a pending
 * exception) unless it is one and, when min_len > 0, has at least min_len bytes
 * at the given alignment. */
static int get_bytes(napi_env env, napi_value value, size_t min_len, size_t align,
                     uint8_t **data, size_t *len) {
  napi_typedarray_type type;
  void *ptr = NULL;
  size_t length = 0;
  if (napi_get_typedarray_info(env, value, &type, &length, &ptr, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "sha_state: expected a Uint8Array");
    return 0;
  }
  if (length < min_len || (align > 1 && ((uintptr_t)ptr % align) != 0)) {
    napi_throw_range_error(env, NULL, "sha_state: buffer too small or misaligned");
    return 0;
  }
  *data = (uint8_t *)ptr;
  *len = length;
  return 1;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "sha_state: missing arguments");
    return 0;
  }
  return 1;
}

#define CTX_ARG(T, idx, name)                                                       \
  uint8_t *name##_bytes;                                                           \
  size_t name##_len;                                                               \
  if (!get_bytes(env, argv[idx], sizeof(T), _Alignof(T), &name##_bytes, &name##_len)) \
    return NULL;                                                                   \
  T *name = (T *)name##_bytes;

/* ---- SHA-256 ------------------------------------------------------------ */

static napi_value sha256_init(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  CTX_ARG(SHA256_CTX, 0, ctx)
  SHA256_Init(ctx);
  return NULL;
}

static napi_value sha256_update(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint8_t *data;
  size_t len;
  if (!get_args(env, info, 2, argv)) return NULL;
  CTX_ARG(SHA256_CTX, 0, ctx)
  if (!get_bytes(env, argv[1], 0, 1, &data, &len)) return NULL;
  if (len > 0) SHA256_Update(ctx, data, len);
  return NULL;
}

/* Finalizes a copy so the caller can keep updating the original. */
static napi_value sha256_digest(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint8_t *out;
  size_t out_len;
  SHA256_CTX copy;
  if (!get_args(env, info, 2, argv)) return NULL;
  CTX_ARG(SHA256_CTX, 0, ctx)
  if (!get_bytes(env, argv[1], SHA256_DIGEST_LENGTH, 1, &out, &out_len)) return NULL;
  memcpy(&copy, ctx, sizeof copy);
  SHA256_Final(out, &copy);
  return NULL;
}

static napi_value sha256_save(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint8_t *out;
  size_t out_len;
  if (!get_args(env, info, 2, argv)) return NULL;
  CTX_ARG(SHA256_CTX, 0, ctx)
  if (!get_bytes(env, argv[1], GO256_SIZE, 1, &out, &out_len)) return NULL;
  memcpy(out, MAGIC256, 4);
  for (int i = 0; i < 8; i++) put_be32(out + 4 + 4 * i, ctx->h[i]);
  /* OpenSSL keeps num == total % 64: the pending bytes are the start of data. */
  unsigned int num = ctx->num % SHA256_CBLOCK;
  memset(out + 36, 0, SHA256_CBLOCK);
  memcpy(out + 36, ctx->data, num);
  uint64_t bits = ((uint64_t)ctx->Nh << 32) | ctx->Nl;
  put_be64(out + 36 + SHA256_CBLOCK, bits >> 3);
  return NULL;
}

static napi_value sha256_load(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint8_t *in;
  size_t in_len;
  if (!get_args(env, info, 2, argv)) return NULL;
  CTX_ARG(SHA256_CTX, 0, ctx)
  if (!get_bytes(env, argv[1], GO256_SIZE, 1, &in, &in_len)) return NULL;
  uint64_t total = get_be64(in + 36 + SHA256_CBLOCK);
  if (in_len != GO256_SIZE || memcmp(in, MAGIC256, 4) != 0 || total >> 61 != 0) {
    napi_throw_range_error(env, NULL, "sha_state: invalid sha256 state");
    return NULL;
  }
  memset(ctx, 0, sizeof *ctx);
  for (int i = 0; i < 8; i++) ctx->h[i] = get_be32(in + 4 + 4 * i);
  uint64_t bits = total << 3;
  ctx->Nl = (SHA_LONG)bits;
  ctx->Nh = (SHA_LONG)(bits >> 32);
  ctx->num = (unsigned int)(total % SHA256_CBLOCK);
  memcpy(ctx->data, in + 36, ctx->num);
  ctx->md_len = SHA256_DIGEST_LENGTH;
  return NULL;
}

/* ---- SHA-512 ------------------------------------------------------------ */

static napi_value sha512_init(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  CTX_ARG(SHA512_CTX, 0, ctx)
  SHA512_Init(ctx);
  return NULL;
}

static napi_value sha512_update(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint8_t *data;
  size_t len;
  if (!get_args(env, info, 2, argv)) return NULL;
  CTX_ARG(SHA512_CTX, 0, ctx)
  if (!get_bytes(env, argv[1], 0, 1, &data, &len)) return NULL;
  if (len > 0) SHA512_Update(ctx, data, len);
  return NULL;
}

static napi_value sha512_digest(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint8_t *out;
  size_t out_len;
  SHA512_CTX copy;
  if (!get_args(env, info, 2, argv)) return NULL;
  CTX_ARG(SHA512_CTX, 0, ctx)
  if (!get_bytes(env, argv[1], SHA512_DIGEST_LENGTH, 1, &out, &out_len)) return NULL;
  memcpy(&copy, ctx, sizeof copy);
  SHA512_Final(out, &copy);
  return NULL;
}

static napi_value sha512_save(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint8_t *out;
  size_t out_len;
  if (!get_args(env, info, 2, argv)) return NULL;
  CTX_ARG(SHA512_CTX, 0, ctx)
  if (!get_bytes(env, argv[1], GO512_SIZE, 1, &out, &out_len)) return NULL;
  memcpy(out, MAGIC512, 4);
  for (int i = 0; i < 8; i++) put_be64(out + 4 + 8 * i, ctx->h[i]);
  unsigned int num = ctx->num % SHA512_CBLOCK;
  memset(out + 68, 0, SHA512_CBLOCK);
  memcpy(out + 68, ctx->u.p, num);
  /* Nh:Nl is a 128-bit bit count; Go stores a 64-bit byte count. */
  put_be64(out + 68 + SHA512_CBLOCK, (ctx->Nh << 61) | (ctx->Nl >> 3));
  return NULL;
}

static napi_value sha512_load(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint8_t *in;
  size_t in_len;
  if (!get_args(env, info, 2, argv)) return NULL;
  CTX_ARG(SHA512_CTX, 0, ctx)
  if (!get_bytes(env, argv[1], GO512_SIZE, 1, &in, &in_len)) return NULL;
  if (in_len != GO512_SIZE || memcmp(in, MAGIC512, 4) != 0) {
    napi_throw_range_error(env, NULL, "sha_state: invalid sha512 state");
    return NULL;
  }
  uint64_t total = get_be64(in + 68 + SHA512_CBLOCK);
  memset(ctx, 0, sizeof *ctx);
  for (int i = 0; i < 8; i++) ctx->h[i] = get_be64(in + 4 + 8 * i);
  ctx->Nl = total << 3;
  ctx->Nh = total >> 61;
  ctx->num = (unsigned int)(total % SHA512_CBLOCK);
  memcpy(ctx->u.p, in + 68, ctx->num);
  ctx->md_len = SHA512_DIGEST_LENGTH;
  return NULL;
}

/* ---- module ------------------------------------------------------------- */

static napi_value init(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"sha256Init", sha256_init},     {"sha256Update", sha256_update},
      {"sha256Digest", sha256_digest}, {"sha256Save", sha256_save},
      {"sha256Load", sha256_load},     {"sha512Init", sha512_init},
      {"sha512Update", sha512_update}, {"sha512Digest", sha512_digest},
      {"sha512Save", sha512_save},     {"sha512Load", sha512_load},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn) != napi_ok ||
        napi_set_named_property(env, exports, fns[i].name, fn) != napi_ok)
      return NULL;
  }
  napi_value v;
  if (napi_create_uint32(env, (uint32_t)sizeof(SHA256_CTX), &v) != napi_ok ||
      napi_set_named_property(env, exports, "sha256CtxSize", v) != napi_ok ||
      napi_create_uint32(env, (uint32_t)sizeof(SHA512_CTX), &v) != napi_ok ||
      napi_set_named_property(env, exports, "sha512CtxSize", v) != napi_ok)
    return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
