/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The unit-test runner. Each test runs in a child process of its own with a
 * hang timeout (a guard against hangs, never a speed check) and a scratch
 * directory that is removed afterwards. Exit status 0 passes, 77 skips,
 * anything else (a signal included) fails.
 *
 *   unit [-l] [-s subsys::topic[::case]]... [-r results-file] [-t seconds]
 *
 * The last line printed is "N passed, N failed" (", N skipped" when any).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

#define T(name) void name(void);
#include "list.inc"
#undef T

struct test {
	const char *name;
	void (*fn)(void);
};

#define T(name) {#name, name},
static const struct test tests[] = {
#include "list.inc"
};
#undef T

static const size_t n_tests = sizeof(tests) / sizeof(tests[0]);

/* Present when built with LeakSanitizer: the child leaves with _exit(),
 * which skips LSan's own exit-time check, so run it by hand. */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

void nmd_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	_exit(1);
}

void nmd_test_skip(const char *why)
{
	fprintf(stderr, "    skipped: %s\n", why);
	fflush(stderr);
	_exit(NMD_TEST_SKIP_CODE);
}

const char *nmd_test_tmpdir(void)
{
	const char *d = getenv("NMD_TEST_TMPDIR");
	return d ? d : "/tmp";
}

const char *nmd_test_corpus_dir(void)
{
	static const char *const candidates[] = {"../shared/corpus",
						 "../../shared/corpus"};
	const char *env = getenv("NOMAD_CORPUS");
	struct stat st;
	if (env && stat(env, &st) == 0 && S_ISDIR(st.st_mode))
		return env;
	for (size_t i = 0; i < sizeof(candidates) / sizeof(*candidates); i++)
		if (stat(candidates[i], &st) == 0 && S_ISDIR(st.st_mode))
			return candidates[i];
	return NULL;
}

char *nmd_test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			if (len)
				*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

/* test_core_buf__append -> core::buf::append */
static void display_name(const char *name, char *out, size_t cap)
{
	const char *p = name;
	size_t o = 0;
	bool first = true;
	if (strncmp(p, "test_", 5) == 0)
		p += 5;
	for (; *p && o + 3 < cap; p++) {
		if (first && *p == '_') {
			out[o++] = ':';
			out[o++] = ':';
			first = false;
		} else if (p[0] == '_' && p[1] == '_') {
			out[o++] = ':';
			out[o++] = ':';
			p++;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

static bool selected(const char *display, char **filters, int n_filters)
{
	if (n_filters == 0)
		return true;
	for (int i = 0; i < n_filters; i++)
		if (strncmp(display, filters[i], strlen(filters[i])) == 0)
			return true;
	return false;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int run_one(const struct test *t, unsigned timeout_s)
{
	char dir[] = "/tmp/nmd-test-XXXXXX";
	int status = 0;
	pid_t pid;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		setenv("NMD_TEST_TMPDIR", dir, 1);
		/* Its own process group, so a hang kills its children too. */
		setpgid(0, 0);
		alarm(timeout_s);
		t->fn();
		fflush(NULL);
		if (__lsan_do_recoverable_leak_check &&
		    __lsan_do_recoverable_leak_check() != 0)
			_exit(1);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	kill(-pid, SIGKILL);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WTERMSIG(status) == SIGALRM)
		fprintf(stderr, "    timed out after %u s (hang)\n", timeout_s);
	else
		fprintf(stderr, "    killed by signal %d\n", WTERMSIG(status));
	return 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	char *filters[64];
	int n_filters = 0, opt;
	bool list = false;
	const char *results = NULL;
	unsigned timeout_s = 120;
	unsigned passed = 0, failed = 0, skipped = 0;
	char display[256];

	while ((opt = getopt(argc, argv, "ls:r:t:")) != -1) {
		switch (opt) {
		case 'l':
			list = true;
			break;
		case 's':
			if (n_filters < 64)
				filters[n_filters++] = optarg;
			break;
		case 'r':
			results = optarg;
			break;
		case 't':
			timeout_s = (unsigned)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-l] [-s subsys::topic::case]"
					" [-r results] [-t seconds]\n",
				argv[0]);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);

	for (size_t i = 0; i < n_tests; i++) {
		display_name(tests[i].name, display, sizeof(display));
		if (!selected(display, filters, n_filters))
			continue;
		if (list) {
			puts(display);
			continue;
		}
		int rc = run_one(&tests[i], timeout_s);
		if (rc == 0) {
			passed++;
			printf("ok    %s\n", display);
		} else if (rc == NMD_TEST_SKIP_CODE) {
			skipped++;
			printf("skip  %s\n", display);
		} else {
			failed++;
			printf("FAIL  %s\n", display);
		}
		fflush(stdout);
	}
	if (list)
		return 0;
	if (results) {
		FILE *f = fopen(results, "w");
		if (f) {
			fprintf(f, "%u %u %u\n", passed, failed, skipped);
			fclose(f);
		}
	}
	printf("%u passed, %u failed", passed, failed);
	if (skipped)
		printf(", %u skipped", skipped);
	printf("\n");
	return failed ? 1 : 0;
}
