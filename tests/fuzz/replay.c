/* SPDX-License-Identifier: ISC */
/*
 * The corpus replay driver for make check: runs LLVMFuzzerTestOneInput over
 * every file of the harness's corpus (tests/fuzz/corpus/NAME under
 * $SRCDIR), or over the files and directories named on the command line.
 * A crash or a sanitizer report fails the test; an empty corpus does too,
 * so a corpus that went missing is noticed.  Compiled out when the harness
 * is built for libFuzzer (-DFUZZ_LIBFUZZER), which brings its own main().
 */
#include "autoconfig.h"

#ifndef FUZZ_LIBFUZZER

#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error "FUZZ_NAME names the harness's corpus directory"
#endif

/* Corpus files are small; a bigger one is a mistake, not a test. */
#define REPLAY_FILE_MAX (4 * 1024 * 1024)

static int
replay_file(const char *path, size_t *count)
{
	struct stat st;
	uint8_t *data;
	size_t n;
	FILE *f;

	f = fopen(path, "rb");
	if (f == NULL || fstat(fileno(f), &st) == -1) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	if (st.st_size > REPLAY_FILE_MAX) {
		fprintf(stderr, "replay: %s is too large\n", path);
		fclose(f);
		return -1;
	}
	/* An exact-size copy, so ASan sees a read past the input. */
	data = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (data == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(data, 1, (size_t)st.st_size, f);
	fclose(f);
	if (n != (size_t)st.st_size) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		free(data);
		return -1;
	}
	LLVMFuzzerTestOneInput(data, n);
	free(data);
	(*count)++;
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
replay_path(const char *path, size_t *count)
{
	struct dirent *e;
	struct stat st;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int rc = 0;
	DIR *d;

	if (stat(path, &st) == -1) {
		fprintf(
		    stderr, "replay: no such file or directory: %s\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path, count);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn;

			cap = cap ? cap * 2 : 64;
			nn = realloc(names, cap * sizeof(*nn));
			if (nn == NULL) {
				rc = -1;
				break;
			}
			names = nn;
		}
		if (asprintf(&names[n], "%s/%s", path, e->d_name) == -1) {
			rc = -1;
			break;
		}
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		if (rc == 0 && replay_file(names[i], count) == -1)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *srcdir = getenv("SRCDIR");
	size_t count = 0;
	char *dir;
	int i, rc = 0;

	if (argc > 1) {
		for (i = 1; i < argc; i++)
			if (replay_path(argv[i], &count) == -1)
				rc = 1;
	} else {
		if (asprintf(&dir, "%s/tests/fuzz/corpus/%s",
			srcdir != NULL ? srcdir : TOP_SRCDIR, FUZZ_NAME) == -1)
			return 1;
		if (replay_path(dir, &count) == -1)
			rc = 1;
		free(dir);
	}
	printf("%s: %zu input%s replayed\n", FUZZ_NAME, count,
	    count == 1 ? "" : "s");
	if (count == 0) {
		fprintf(stderr, "replay: the corpus is empty\n");
		return 1;
	}
	return rc;
}

#endif /* FUZZ_LIBFUZZER */
