/* fdio.h: whole writes to a file descriptor (CGI answers, spool records). */
#ifndef KANCA_FDIO_H
#define KANCA_FDIO_H

#include <stddef.h>

/* Writes all n bytes of p to fd, again after EINTR and short writes. 0, or -1 (errno set). */
int fdio_write_all(int fd, const void *p, size_t n);

#endif
