/* SPDX-License-Identifier: ISC */
/*
 * libmagic on demand (magic_lazy.c, in the binary only): the libmagic
 * functions compose.c calls load the library the first time; this is
 * what --version asks of it.
 */
#ifndef MAILSUB_MAGIC_LAZY_H
#define MAILSUB_MAGIC_LAZY_H

/*
 * The MAGIC_VERSION the binary was built with (*built, 544 for 5.44),
 * the loaded library's magic_version() (*loaded; -1 when it has none)
 * and the file it was loaded from (*path).  -1 when mailsub was built
 * without libmagic (*built -1, *path NULL) or the library cannot be
 * loaded (*path its soname).
 */
int magic_lazy_version(int *built, int *loaded, const char **path);

#endif
