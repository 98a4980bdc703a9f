/*
 * earshot's Opus encoder: the system libopus (Debian's libopus0), built only
 * where pkg-config finds libopus-dev (binding.gyp); src/opus.ts falls back to
 * @discordjs/opus without it.
 *
 * Why not @discordjs/opus alone: its prebuilt binding compiles libopus's
 * generic C paths, while the distribution's library selects SSE/AVX kernels at
 * run time - in a meeting, one frame per 20 ms wake, that halves the encode.
 * And it encodes into memory the caller owns (the ring's Opus slot), where the
 * other binding returns a fresh Buffer per packet.
 *
 *   new Encoder(rate, channels, bitrate, complexity)  application "audio"
 *   encoder.encodeInto(pcm, out) -> packet bytes in out
 *     pcm: a Buffer or TypedArray of rate/50 s16le samples per channel (20 ms)
 *     out: a Buffer or TypedArray the packet is written into (from its start)
 *
 * Errors are thrown as JS errors carrying libopus's message.
 */
#include <opus.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <node_api.h>

#define CALL(env, expr)                                                  \
  do {                                                                   \
    if ((expr) != napi_ok) {                                             \
      napi_throw_error((env), "EINTERNAL", "earshot_opus: N-API failed"); \
      return NULL;                                                       \
    }                                                                    \
  } while (0)

typedef struct {
  OpusEncoder *enc;
  int frame_samples; /* per channel, 20 ms */
  int channels;
} Encoder;

static napi_value opus_error(napi_env env, const char *what, int code) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, opus_strerror(code));
  napi_throw_error(env, "EOPUS", msg);
  return NULL;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Encoder *e = data;
  opus_encoder_destroy(e->enc);
  free(e);
}

static napi_value construct(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], self;
  int32_t rate, channels, bitrate, complexity;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (argc < 4 || napi_get_value_int32(env, argv[0], &rate) != napi_ok ||
      napi_get_value_int32(env, argv[1], &channels) != napi_ok ||
      napi_get_value_int32(env, argv[2], &bitrate) != napi_ok ||
      napi_get_value_int32(env, argv[3], &complexity) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "new Encoder(rate, channels, bitrate, complexity): integers");
    return NULL;
  }
  int err;
  OpusEncoder *enc = opus_encoder_create(rate, channels, OPUS_APPLICATION_AUDIO, &err);
  if (err != OPUS_OK) return opus_error(env, "opus_encoder_create", err);
  if ((err = opus_encoder_ctl(enc, OPUS_SET_BITRATE(bitrate))) != OPUS_OK ||
      (err = opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(complexity))) != OPUS_OK) {
    opus_encoder_destroy(enc);
    return opus_error(env, "opus_encoder_ctl", err);
  }
  Encoder *e = malloc(sizeof *e);
  if (!e) {
    opus_encoder_destroy(enc);
    napi_throw_error(env, "ENOMEM", "earshot_opus: out of memory");
    return NULL;
  }
  *e = (Encoder){.enc = enc, .frame_samples = rate / 50, .channels = channels};
  if (napi_wrap(env, self, e, finalize, NULL, NULL) != napi_ok) {
    finalize(env, e, NULL);
    napi_throw_error(env, "EINTERNAL", "earshot_opus: napi_wrap failed");
    return NULL;
  }
  return self;
}

/* The bytes of a Buffer or any TypedArray (a view of a SharedArrayBuffer too). */
static int bytes_of(napi_env env, napi_value v, void **data, size_t *len) {
  bool is;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t n;
    napi_value ab;
    size_t off;
    if (napi_get_typedarray_info(env, v, &type, &n, data, &ab, &off) != napi_ok) return -1;
    static const size_t width[] = {1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8};
    *len = n * (type < sizeof width / sizeof width[0] ? width[type] : 1);
    return 0;
  }
  return napi_get_buffer_info(env, v, data, len) == napi_ok ? 0 : -1;
}

static napi_value encode_into(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self;
  Encoder *e;
  void *pcm, *out;
  size_t pcm_len, out_len;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  CALL(env, napi_unwrap(env, self, (void **)&e));
  if (argc < 2 || bytes_of(env, argv[0], &pcm, &pcm_len) || bytes_of(env, argv[1], &out, &out_len)) {
    napi_throw_type_error(env, "EINVAL", "encodeInto(pcm, out): a Buffer or TypedArray each");
    return NULL;
  }
  if (pcm_len < (size_t)e->frame_samples * e->channels * 2) {
    napi_throw_range_error(env, "EINVAL", "encodeInto(pcm, out): pcm holds less than 20 ms");
    return NULL;
  }
  int n = opus_encode(e->enc, pcm, e->frame_samples, out, out_len > INT32_MAX ? INT32_MAX : (opus_int32)out_len);
  if (n < 0) return opus_error(env, "opus_encode", n);
  napi_value result;
  CALL(env, napi_create_int32(env, n, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"encodeInto", NULL, encode_into, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls, version;
  CALL(env, napi_define_class(env, "Encoder", NAPI_AUTO_LENGTH, construct, NULL, 1, methods, &cls));
  CALL(env, napi_set_named_property(env, exports, "Encoder", cls));
  CALL(env, napi_create_string_utf8(env, opus_get_version_string(), NAPI_AUTO_LENGTH, &version));
  CALL(env, napi_set_named_property(env, exports, "version", version));
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
