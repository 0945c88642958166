/* Debug logging that release builds compile out entirely.
 *
 * Debug builds (CMAKE_BUILD_TYPE=Debug defines VOX_DEBUG_LOG=1) print VX_DEBUG lines to
 * stderr when the environment variable VOX_DEBUG is set; in release builds the macro
 * expands to nothing, so its arguments are not even evaluated. */
#ifndef VX_LOG_H
#define VX_LOG_H
#include <stdio.h>
#include <stdlib.h>

#if defined(VOX_DEBUG_LOG) && VOX_DEBUG_LOG
#define VX_DEBUG(...)                                                                              \
    do {                                                                                           \
        if (getenv("VOX_DEBUG")) {                                                                 \
            fprintf(stderr, "vox debug: " __VA_ARGS__);                                            \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)
#else
#define VX_DEBUG(...)                                                                              \
    do {                                                                                           \
    } while (0)
#endif
#endif
