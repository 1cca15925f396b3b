/*
 * embedded.c - starts and stops the built-in echod of echo-conform and echo-bench (see
 * embedded.h). Its
 * stdout is a pipe read with a deadline, so a server that never prints its ports cannot
 * hang the run.
 */
#define _GNU_SOURCE
#include "common/embedded.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/sock.h"

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int echod_path(const char *given, char *buf, size_t size)
{
    ssize_t n;
    char *slash;

    if (given) {
        snprintf(buf, size, "%s", given);
        return 0;
    }
    n = readlink("/proc/self/exe", buf, size - 8);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    slash = strrchr(buf, '/');
    if (!slash)
        return -1;
    snprintf(slash + 1, size - (size_t)(slash + 1 - buf), "echod");
    return 0;
}

int em_start(const struct em_opts *o, struct ea_addr *tcp_out, struct ea_addr *udp_out, pid_t *pid)
{
    char path[PATH_MAX], buf[1024];
    size_t len = 0;
    int pfd[2], got_tcp = !o->tcp, got_udp = !o->udp;
    long long end;
    pid_t parent = getpid();

    path[0] = '\0';
    if (echod_path(o->path, path, sizeof path) < 0 || access(path, X_OK) != 0) {
        fprintf(stderr, "%s: no target given and the built-in echod was not found at "
                "%s\n", o->prog, path);
        return -1;
    }
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        fprintf(stderr, "%s: pipe: %s\n", o->prog, strerror(errno));
        return -1;
    }
    *pid = fork();
    if (*pid < 0) {
        fprintf(stderr, "%s: fork: %s\n", o->prog, strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (*pid == 0) {
        const char *listen = o->v6 ? "[::1]" : "127.0.0.1";
        /* The server dies with its parent, however the parent ends (SIGKILL, a CTest or
         * timeout(1) deadline): a killed echo-conform or echo-bench leaves no echod behind.
         * The death signal survives execv; the getppid() check closes the race with a parent
         * that died before prctl(). */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
            _exit(127);
        dup2(pfd[1], 1);
        if (!o->verbose) {
            /* Its statistics on stderr at exit are not part of the report. */
            int nul = open("/dev/null", O_WRONLY);
            if (nul >= 0)
                dup2(nul, 2);
        }
        const char *argv[20] = {"echod", "--listen", listen, "--port", "0"};
        size_t argc = 5;
        for (size_t i = 0; o->extra && o->extra[i] && argc < 19; i++)
            argv[argc++] = o->extra[i];
        argv[argc] = NULL;
        execv(path, (char *const *)argv);
        _exit(127);
    }
    close(pfd[1]);
    end = now_ms() + 5000;
    while (!(got_tcp && got_udp)) {
        long long now = now_ms();
        ssize_t r;
        char *nl;
        if (now >= end || ns_wait(pfd[0], POLLIN, (int)(end - now)) <= 0)
            break;
        r = read(pfd[0], buf + len, sizeof buf - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        while ((nl = strchr(buf, '\n')) != NULL) {
            struct ea_endpoint ep;
            char *addr = NULL;
            int tcp = 0;
            *nl = '\0';
            if (strncmp(buf, "listening tcp ", 14) == 0)
                addr = buf + 14, tcp = 1;
            else if (strncmp(buf, "listening udp ", 14) == 0)
                addr = buf + 14;
            if (addr && ea_parse(addr, strlen(addr), 0, &ep) == 0 && ep.kind != EA_KIND_NAME) {
                ep.addr.port = ep.port;
                if (tcp && o->tcp) {
                    if (tcp_out)
                        *tcp_out = ep.addr;
                    got_tcp = 1;
                } else if (!tcp && o->udp) {
                    if (udp_out)
                        *udp_out = ep.addr;
                    got_udp = 1;
                }
            }
            len -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, len + 1);
        }
    }
    close(pfd[0]);
    if (!(got_tcp && got_udp)) {
        fprintf(stderr, "%s: %s did not report its listening ports\n", o->prog, path);
        kill(*pid, SIGTERM);
        waitpid(*pid, NULL, 0);
        return -1;
    }
    return 0;
}

void em_stop(pid_t pid)
{
    long long end = now_ms() + 2000;

    kill(pid, SIGTERM);
    while (now_ms() < end) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        poll(NULL, 0, 10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

