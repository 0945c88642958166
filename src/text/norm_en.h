/* Internal to the English rules (norm_en*.c): the number, money and unit readers they
 * share. norm_en_say.c says numbers and holds the month, currency and unit tables;
 * norm_en_num.c reads numeric tokens (phones, dates, times, versions, fractions, money,
 * units); norm_en.c reads words (abbreviations, Roman numerals, symbols) and dispatches. */
#ifndef VX_NORM_EN_H
#define VX_NORM_EN_H
#include "text/norm.h"
#include <stdint.h>

typedef struct currency {
    const char *sym, *one, *many, *sub_one, *sub_many;
} currency;
typedef struct unit {
    const char *sym, *one, *many, *gb_one, *gb_many;
    int attached_only;
} unit;

extern const char *const vx_en_months[12];

/* British reading (en-gb) asked for */
static inline int vx_en_gb(const vx_norm_ctx *c) { return c->region == VX_NORM_REGION_GB; }

/* norm_en_say.c */
void vx_en_cardinal(vx_sb *b, uint64_t v, int gbr);
void vx_en_digit_words(vx_sb *b, const char *d, size_t n, int oh);
void vx_en_number(vx_sb *b, const vx_num *n, int gbr);
void vx_en_pluralize(vx_sb *b);
void vx_en_ordinal(vx_sb *b, uint64_t v, int gbr);
void vx_en_year(vx_sb *b, unsigned y, int gbr);
size_t vx_en_month_at(const vx_norm_ctx *c, size_t pos, int *m);
const currency *vx_en_cur_sym_at(const vx_norm_ctx *c, size_t pos, size_t *k);
const currency *vx_en_cur_code_at(const vx_norm_ctx *c, size_t pos, size_t *k);
size_t vx_en_magnitude_at(const vx_norm_ctx *c, size_t pos, const char **w);
void vx_en_money(vx_sb *b, const vx_num *n, const currency *cu, const char *mag, int gbr);
size_t vx_en_unit_at(const vx_norm_ctx *c, size_t pos, const unit **u);
void vx_en_say_unit(vx_sb *b, const unit *u, int plural, int gbr);

/* norm_en_num.c */
size_t vx_en_phone(vx_norm_ctx *c, size_t pos);
int vx_en_valid_date(int y, int m, int d);
void vx_en_say_date(vx_sb *b, int y, int m, int d, int day_first, int gbr);
size_t vx_en_version(vx_norm_ctx *c, size_t pos);
size_t vx_en_vulgar_at(const vx_norm_ctx *c, size_t pos, unsigned *num, unsigned *den);
void vx_en_say_fraction(vx_sb *b, uint64_t whole, int has_whole, uint64_t num, uint64_t den,
                        int gbr);
size_t vx_en_currency_prefix(vx_norm_ctx *c, size_t pos);
int vx_en_ord_suffix_ok(uint64_t v, const char *s);
size_t vx_en_numeric(vx_norm_ctx *c, size_t pos);
#endif
