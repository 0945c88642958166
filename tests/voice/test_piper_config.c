/* Piper voice config parsing: the shared configs, defaults, and every error path. */
#include "test.h"
#include "voice/piper_config.h"
#include "vox.h"

static vx_piper_config *parse(const char *json, int want_rc, const char *want_msg) {
    vx_piper_config *c = NULL;
    char err[256] = "";
    int rc = vx_piper_config_parse(json, strlen(json), &c, err, sizeof err);
    CHECKF(rc == want_rc, "rc %d want %d (%s) for %s", rc, want_rc, err, json);
    if (want_msg) CHECKF(strstr(err, want_msg) != NULL, "'%s' lacks '%s'", err, want_msg);
    if (rc) CHECK(c == NULL);
    return c;
}

#define MIN_MAP                                                                                    \
    "\"phoneme_id_map\":{\"_\":[0],\"^\":[1],\"$\":[2],\"a\":[14],\"aɪ\":[161],\"ɪ\":[74]}"
#define BASE                                                                                       \
    "\"audio\":{\"sample_rate\":22050},\"espeak\":{\"voice\":\"en-us\"},\"num_symbols\":256,"      \
    "\"num_speakers\":1"

static void test_shared(void) {
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/models/en_US-rand-medium.onnx.json", test_shared_dir());
    vx_piper_config *c;
    CHECKF(vx_piper_config_load(path, &c, err, sizeof err) == 0, "%s", err);
    if (!c) return;
    CHECK_EQ_INT(c->sample_rate, 22050);
    CHECK_STR(c->quality, "medium");
    CHECK_STR(c->espeak_voice, "en-us");
    CHECK_NEAR(c->noise_scale, 0.667, 1e-6);
    CHECK_NEAR(c->length_scale, 1.0, 1e-6);
    CHECK_NEAR(c->noise_w, 0.8, 1e-6);
    CHECK_EQ_INT(c->phoneme_type_text, 0);
    CHECK_EQ_INT(c->hop_length, 256);
    CHECK_EQ_INT(c->num_speakers, 1);
    uint32_t k[2] = {'h', 0};
    const vx_phoneme_ids *p = vx_piper_config_ids(c, k, 1);
    CHECK(p && p->n_ids == 1 && p->ids[0] == 20);
    uint32_t ai[2] = {'a', 0x26A};
    p = vx_piper_config_ids(c, ai, 2); /* multi-codepoint key */
    CHECK(p && p->ids[0] == 161);
    vx_piper_config_free(c);

    snprintf(path, sizeof path, "%s/models/en_US-rand3spk-x_low.onnx.json", test_shared_dir());
    CHECKF(vx_piper_config_load(path, &c, err, sizeof err) == 0, "%s", err);
    if (!c) return;
    CHECK_EQ_INT(c->sample_rate, 16000);
    CHECK_EQ_INT(c->num_speakers, 3);
    CHECK_EQ_INT(vx_piper_config_speaker(c, "speaker2"), 2);
    CHECK_EQ_INT(vx_piper_config_speaker(c, "nobody"), -1);
    CHECK_STR(c->language_code, "en_US");
    CHECK(c->dataset != NULL);
    vx_piper_config_free(c);
}

static void test_fields(void) {
    vx_piper_config *c = parse("{" BASE "," MIN_MAP ",\"phoneme_map\":{\"a\":[\"ɪ\",\"a\"]},"
                               "\"vowel_clusters\":[[\"a\",\"ɪ\"]],\"hop_length\":512,"
                               "\"phoneme_type\":\"espeak\",\"inference\":{\"noise_scale\":0.5}}",
                               0, NULL);
    if (c) {
        CHECK_EQ_INT(c->hop_length, 512);
        CHECK_NEAR(c->noise_scale, 0.5, 1e-6);
        CHECK_NEAR(c->noise_w, 0.8, 1e-6);
        CHECK_EQ_INT(c->n_vowel_clusters, 1);
        uint32_t a = 'a';
        const vx_phoneme_mapping *m = vx_piper_config_map(c, &a, 1);
        CHECK(m && m->n_to == 2 && m->to[0].cp[0] == 0x26A);
    }
    vx_piper_config_free(c);
    c = parse("{\"audio\":{\"sample_rate\":16000},\"phoneme_type\":\"text\",\"num_symbols\":200,"
              "\"num_speakers\":1," MIN_MAP "}",
              0, NULL);
    CHECK(c && c->phoneme_type_text == 1 && c->espeak_voice == NULL);
    vx_piper_config_free(c);
}

static void test_errors(void) {
    char err[256] = "";
    vx_piper_config *c;
    CHECK(vx_piper_config_load("/nonexistent/x.onnx.json", &c, err, sizeof err) ==
          VOX_ERR_NOT_FOUND);
    CHECK(strstr(err, "/nonexistent/x.onnx.json") != NULL);
    parse("{\"audio\":", VOX_ERR_CONFIG, "invalid JSON");
    parse("", VOX_ERR_CONFIG, "invalid JSON");
    parse("[1,2]", VOX_ERR_CONFIG, "not a JSON object");
    parse("{" MIN_MAP ",\"espeak\":{\"voice\":\"en\"},\"num_symbols\":1,\"num_speakers\":1}",
          VOX_ERR_CONFIG, "audio");
    parse(
        "{\"audio\":{},\"espeak\":{\"voice\":\"en\"},\"num_symbols\":1,\"num_speakers\":1," MIN_MAP
        "}",
        VOX_ERR_CONFIG, "audio.sample_rate");
    parse("{\"audio\":{\"sample_rate\":\"fast\"},\"espeak\":{\"voice\":\"en\"},\"num_symbols\":1,"
          "\"num_speakers\":1," MIN_MAP "}",
          VOX_ERR_CONFIG, "audio.sample_rate");
    parse("{\"audio\":{\"sample_rate\":22050.5},\"espeak\":{\"voice\":\"en\"},\"num_symbols\":1,"
          "\"num_speakers\":1," MIN_MAP "}",
          VOX_ERR_CONFIG, "audio.sample_rate");
    parse("{" BASE "}", VOX_ERR_CONFIG, "phoneme_id_map");
    parse("{" BASE ",\"phoneme_id_map\":[1]}", VOX_ERR_CONFIG, "phoneme_id_map");
    parse("{" BASE ",\"phoneme_id_map\":{\"a\":[\"x\"]}}", VOX_ERR_CONFIG, "phoneme_id_map");
    parse("{" BASE ",\"phoneme_id_map\":{\"a\":[1]}}", VOX_ERR_CONFIG, "lacks");
    parse("{\"audio\":{\"sample_rate\":22050},\"num_symbols\":1,\"num_speakers\":1," MIN_MAP "}",
          VOX_ERR_CONFIG, "espeak");
    parse("{\"audio\":{\"sample_rate\":22050},\"espeak\":{\"voice\":5},\"num_symbols\":1,"
          "\"num_speakers\":1," MIN_MAP "}",
          VOX_ERR_CONFIG, "espeak.voice");
    parse("{" BASE "," MIN_MAP ",\"phoneme_type\":\"pinyin\"}", VOX_ERR_UNSUPPORTED,
          "unsupported phoneme_type 'pinyin'");
    parse("{" BASE "," MIN_MAP ",\"phoneme_type\":3}", VOX_ERR_CONFIG, "phoneme_type");
    parse("{\"audio\":{\"sample_rate\":22050},\"espeak\":{\"voice\":\"en\"},\"num_speakers\":"
          "1," MIN_MAP "}",
          VOX_ERR_CONFIG, "num_symbols");
    parse("{" BASE "," MIN_MAP ",\"inference\":{\"noise_scale\":\"x\"}}", VOX_ERR_CONFIG,
          "inference.noise_scale");
    parse("{" BASE "," MIN_MAP ",\"speaker_id_map\":{\"a\":\"b\"}}", VOX_ERR_CONFIG,
          "speaker_id_map");
    parse("{" BASE "," MIN_MAP ",\"speaker_id_map\":{\"a\":1}}", VOX_ERR_CONFIG, "speaker_id_map");
    parse("{" BASE "," MIN_MAP ",\"vowel_clusters\":[[\"a\"]]}", VOX_ERR_CONFIG, "vowel_clusters");
    parse("{" BASE "," MIN_MAP ",\"phoneme_map\":{\"a\":\"b\"}}", VOX_ERR_CONFIG, "phoneme_map");
    parse("{\"audio\":{\"sample_rate\":22050},\"espeak\":{\"voice\":\"en\"},\"num_symbols\":100,"
          "\"num_speakers\":1," MIN_MAP "}",
          VOX_ERR_CONFIG, "num_symbols");
    parse("{" BASE "," MIN_MAP ",\"hop_length\":-1}", VOX_ERR_CONFIG, "hop_length");
    parse("{" BASE ",\"phoneme_id_map\":{\"_\":[0],\"^\":[1],\"$\":[2],\"abcdefghij\":[3]}}",
          VOX_ERR_CONFIG, "phoneme_id_map");
}

int main(void) {
    test_shared();
    test_fields();
    test_errors();
    TEST_SUMMARY();
}
