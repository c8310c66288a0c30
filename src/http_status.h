/* http_status.h: the one table of HTTP status codes and their reason phrases. */
#ifndef KANCA_HTTP_STATUS_H
#define KANCA_HTTP_STATUS_H

/* The reason phrase of an HTTP status ("Unauthorized"); a status the table lacks gets its class's
 * phrase ("OK" for 2xx, "Bad Request" for 4xx, "Internal Server Error" for 5xx and anything else). */
const char *http_status_phrase(int status);

#endif
