/*
 * ipnet.h: IP address ranges and the outbound address policy.
 *
 * Which addresses may an outbound connection (http.request) go to? By
 * default only public ones: loopback, private (RFC 1918), CGNAT,
 * link-local (with the cloud metadata addresses), unique-local,
 * multicast, unspecified, broadcast, documentation, benchmarking and
 * reserved ranges are refused, for IPv4 and IPv6, and also when an IPv4
 * address hides inside an IPv6 one (IPv4-mapped ::ffff:a.b.c.d, NAT64
 * 64:ff9b::/96, 6to4 2002::/16; IPv4-compatible ::a.b.c.d and the rest of
 * ::/8 are refused outright). An operator lets chosen ranges through with
 * an allow list (http.allow_private).
 *
 * Addresses are kept as 16 IPv6 bytes; an IPv4 address is its IPv4-mapped
 * form (::ffff:a.b.c.d), and an IPv4 range a.b.c.d/n is ::ffff:a.b.c.d/(96+n),
 * so one comparison serves both families.
 */
#ifndef GL_IPNET_H
#define GL_IPNET_H

#include "gl.h"

#include <stdint.h>
#include <sys/socket.h>

#define GL_IPNET_MAX 64 /* ranges in one list */

typedef struct {
    uint8_t addr[16]; /* host bits zero */
    uint8_t bits;     /* prefix length, 0-128, of the 16-byte form */
} gl_ipnet_t;

typedef struct {
    int n;
    gl_ipnet_t nets[GL_IPNET_MAX];
} gl_ipnet_list_t;

/*
 * Parses a comma-separated list of ranges ("10.1.2.0/24, fd00::/8,
 * 127.0.0.1"; a bare address is a single host; "" is the empty list) into
 * *out. IPv4 is dotted-quad only (no 127.1 or 0x7f000001). A range with
 * host bits set (10.1.2.5/24) is an error: it is usually a typo. On error
 * err names the entry and *out is undefined.
 */
int gl_ipnet_parse_list(const char *text, gl_ipnet_list_t *out, gl_err_t *err) GL_WUR;

/* Writes the list as "10.1.2.0/24, fd00::/8" into buf[0..cap) (cut if it
 * does not fit; always terminated). */
void gl_ipnet_format_list(const gl_ipnet_list_t *l, char *buf, size_t cap);

/* True when sa (AF_INET or AF_INET6, len bytes) is a public unicast
 * address: none of the ranges refused by default. */
bool gl_ipnet_is_public(const struct sockaddr *sa, size_t len);

/* True when an outbound connection may go to sa: a public address, or one
 * inside a range of allow (NULL: none). Other families (AF_UNIX) never. */
bool gl_ipnet_allowed(const gl_ipnet_list_t *allow, const struct sockaddr *sa, size_t len);

/* sa as text ("127.0.0.1", "::1") for log lines; buf holds at least 46
 * bytes. */
const char *gl_ipnet_ntop(const struct sockaddr *sa, size_t len, char *buf, size_t cap);

#endif
