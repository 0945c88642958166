/* Rules shared by the German, French and Spanish modules (norm_eu.c): the shapes of
 * currency amounts, times, dates, ordinals, percentages and decimals are the same
 * across these languages; only the words, the word order and a few markers differ,
 * and those come from each module's vx_eu_words. */
#ifndef VX_TEXT_NORM_EU_H
#define VX_TEXT_NORM_EU_H
#include "text/norm.h"

enum { VX_EU_PLAIN = 0, VX_EU_MASC = 1, VX_EU_FEM = 2 }; /* cardinal forms: "eins"/"ein"/"eine" */

typedef struct vx_eu_currency {
    const char *sym; /* "€", "$", "EUR" (codes need a space or boundary) */
    const char *one, *many, *sub_one, *sub_many;
    int fem; /* the unit noun is feminine (la livre, la libra) */
} vx_eu_currency;

typedef struct vx_eu_words {
    void (*cardinal)(vx_sb *b, uint64_t n, int form);
    void (*year)(vx_sb *b, unsigned y);
    /* Ordinal at pos for number n (whose digits end at n->end): the module checks its
     * own markers (de "3.", fr "1er"/"2e", es "1º"/"1.ª") and returns bytes consumed
     * from pos after emitting, or 0. */
    size_t (*ordinal)(vx_norm_ctx *c, size_t pos, const vx_num *n);
    /* A date: day d of month m (1-based) of year y (< 0: none). pos is where the date
     * starts (the module may look at the word before it). */
    void (*date)(const vx_norm_ctx *c, size_t pos, vx_sb *b, int y, int m, int d);
    void (*clock)(vx_sb *b, unsigned h, unsigned mi);
    /* Amount with cents: whole units then the cents (the module's word order). */
    void (*money)(vx_sb *b, const vx_num *n, const vx_eu_currency *cu);
    const char *months[12];
    const char *abbr[12]; /* month abbreviations (with optional dot), or NULL */
    const char *point, *minus, *percent;
    const char *hour_words; /* words after a time that belong to it ("Uhr", "h", NULL) */
    const char *day_marker; /* after the day in "3. Oktober" (".") / "1er" / NULL */
    const char *de_word;    /* es: "de" between day, month and year; NULL */
    int h_times;            /* fr: 14h30, 14 h 30 */
    const vx_eu_currency *cur;
    size_t ncur;
} vx_eu_words;

/* The shared token rule; a module's token function calls it. */
size_t vx_eu_token(vx_norm_ctx *c, size_t pos, const vx_eu_words *w);
/* Shared helpers for modules. */
void vx_eu_number(vx_sb *b, const vx_num *n, const vx_eu_words *w, int form);
void vx_eu_money_default(vx_sb *b, const vx_num *n, const vx_eu_currency *cu, const vx_eu_words *w,
                         const char *joiner);
int vx_eu_prev_is(const vx_norm_ctx *c, size_t pos, const char *const *words);
#endif
