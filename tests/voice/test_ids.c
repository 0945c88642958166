/* Phonemes -> ids: Piper's layout, vowel clusters, phoneme_map, missing phonemes. */
#include "test.h"
#include "voice/ids.h"
#include "voice/piper_config.h"
#include "vox.h"

static vx_piper_config *cfg(const char *extra) {
    char json[2048];
    snprintf(
        json, sizeof json,
        "{\"audio\":{\"sample_rate\":22050},\"espeak\":{\"voice\":\"en-us\"},\"num_symbols\":200,"
        "\"num_speakers\":1,\"phoneme_id_map\":{\"_\":[0],\"^\":[1],\"$\":[2],\" \":[3],"
        "\"a\":[14],\"ɪ\":[74],\"aɪ\":[161],\"b\":[15,16]}%s}",
        extra);
    vx_piper_config *c = NULL;
    char err[256];
    CHECKF(vx_piper_config_parse(json, strlen(json), &c, err, sizeof err) == 0, "%s", err);
    return c;
}

static void check_ids(const vx_piper_config *c, const uint32_t *ph, size_t n, const int64_t *want,
                      size_t n_want, const int32_t *want_src) {
    int64_t *ids;
    int32_t *src;
    size_t n_ids;
    char err[128];
    CHECK_EQ_INT(vx_phonemes_to_ids(c, ph, n, &ids, &n_ids, &src, err, sizeof err), 0);
    CHECK_EQ_INT(n_ids, n_want);
    for (size_t i = 0; i < n_ids && i < n_want; i++) {
        CHECKF(ids[i] == want[i], "id[%zu] = %lld want %lld", i, (long long)ids[i],
               (long long)want[i]);
        if (want_src)
            CHECKF(src[i] == want_src[i], "src[%zu] = %d want %d", i, src[i], want_src[i]);
    }
    free(ids);
    free(src);
}

int main(void) {
    vx_piper_config *c = cfg("");
    const uint32_t ph[] = {'a', 0x26A, ' ', 'b', 'x'};
    /* no clusters: a, ɪ separately; 'x' is missing and dropped; b has two ids */
    check_ids(c, ph, 5, (const int64_t[]){1, 0, 14, 0, 74, 0, 3, 0, 15, 16, 0, 2}, 12,
              (const int32_t[]){-1, -1, 0, -1, 1, -1, 2, -1, 3, 3, -1, -1});
    check_ids(c, NULL, 0, (const int64_t[]){1, 0, 2}, 3, NULL); /* empty: ^ _ $ */
    vx_piper_config_free(c);

    c = cfg(",\"vowel_clusters\":[[\"a\",\"ɪ\"]]"); /* a ɪ -> aɪ */
    check_ids(c, ph, 5, (const int64_t[]){1, 0, 161, 0, 3, 0, 15, 16, 0, 2}, 10,
              (const int32_t[]){-1, -1, 0, -1, 2, -1, 3, 3, -1, -1});
    vx_piper_config_free(c);

    c = cfg(",\"phoneme_map\":{\"x\":[\"a\",\"b\"],\" \":[]}"); /* x -> a b; space -> nothing */
    check_ids(c, ph, 5, (const int64_t[]){1, 0, 14, 0, 74, 0, 15, 16, 0, 14, 0, 15, 16, 0, 2}, 15,
              (const int32_t[]){-1, -1, 0, -1, 1, -1, 3, 3, -1, 4, -1, 4, 4, -1, -1});
    int64_t *ids;
    size_t n;
    char err[128];
    CHECK(vx_phonemes_to_ids(c, NULL, 3, &ids, &n, NULL, err, sizeof err) == VOX_ERR_ARG);
    CHECK(vx_phonemes_to_ids(c, ph, VX_IDS_MAX_PHONEMES + 1, &ids, &n, NULL, err, sizeof err) ==
          VOX_ERR_TOO_LONG);
    vx_piper_config_free(c);
    TEST_SUMMARY();
}
