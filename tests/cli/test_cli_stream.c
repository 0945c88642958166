/* `vox --output-raw` streams: the first sentence's audio is on stdout before the second
 * sentence's synthesis starts. vox --debug announces "synthesizing sentence 1" on stderr
 * right before that synthesis; by then sentence 0's audio must already be readable. */
#include "test.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    const char *build = getenv("VOX_BUILD");
    char vox[1024];
    snprintf(vox, sizeof vox, "%s/vox", build && *build ? build : "build");
    int in[2], out[2], er[2];
    if (pipe(in) || pipe(out) || pipe(er)) return 1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(er[1], 2);
        close(in[1]);
        close(out[0]);
        close(er[0]);
        execl(vox, vox, "-m", "espeak:en-us", "--output-raw", "--debug", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(er[1]);
    /* A second sentence long enough that its synthesis is real work. */
    char text[8192] = "Hello world, this is the first sentence.";
    strcat(text, " This is the second sentence, and it goes on");
    for (int i = 0; i < 60; i++) strcat(text, " and on");
    strcat(text, ".\n");
    CHECK(write(in[1], text, strlen(text)) == (ssize_t)strlen(text));
    close(in[1]);

    size_t audio_before = 0, audio_total = 0;
    int saw_second = 0;
    char ebuf[4096];
    size_t elen = 0;
    int efd = er[0], ofd = out[0];
    while (efd >= 0 || ofd >= 0) {
        struct pollfd p[2] = {{efd, POLLIN, 0}, {ofd, POLLIN, 0}};
        if (poll(p, 2, 20000) <= 0) {
            CHECK(!"vox timed out");
            break;
        }
        if (efd >= 0 && p[0].revents) { /* stderr first: the order of the two pipes matters */
            char b[512];
            ssize_t k = read(efd, b, sizeof b);
            if (k <= 0) {
                close(efd);
                efd = -1;
            } else {
                if (elen + k < sizeof ebuf) {
                    memcpy(ebuf + elen, b, k);
                    elen += k;
                    ebuf[elen] = 0;
                }
                if (!saw_second && strstr(ebuf, "synthesizing sentence 1")) {
                    saw_second = 1;
                    int avail = 0;
                    if (ofd >= 0) ioctl(ofd, FIONREAD, &avail);
                    audio_before = audio_total + (size_t)avail;
                }
            }
        }
        if (ofd >= 0 && p[1].revents) {
            char b[65536];
            ssize_t k = read(ofd, b, sizeof b);
            if (k <= 0) {
                close(ofd);
                ofd = -1;
            } else
                audio_total += (size_t)k;
        }
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECKF(saw_second, "stderr: %s", ebuf);
    /* The first sentence (~2 s) is > 40000 bytes of s16 audio. */
    CHECKF(audio_before > 40000, "audio on stdout before sentence 1 started: %zu bytes",
           audio_before);
    CHECKF(audio_total > audio_before + 100000, "total %zu bytes", audio_total);
    TEST_SUMMARY();
}
