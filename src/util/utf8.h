#ifndef VX_UTF8_H
#define VX_UTF8_H
#include <stddef.h>
#include <stdint.h>
/* Decode one codepoint; returns bytes used, 0 if invalid or truncated. */
size_t vx_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);
/* Encode one codepoint (must be valid); returns bytes written (1..4). */
size_t vx_utf8_encode(uint32_t cp, char out[4]);
/* Number of codepoints in valid UTF-8. */
size_t vx_utf8_count(const char *text, size_t len);
#endif
