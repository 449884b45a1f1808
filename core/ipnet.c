/*
 * ipnet.c: IP ranges, their parser, and the default outbound policy (see
 * ipnet.h). The refused ranges follow IANA's special-purpose address
 * registries; for IPv6 the rule is "global unicast (2000::/3) only", minus
 * the documentation and protocol-assignment blocks, plus the forms that
 * carry an IPv4 address, which are judged by that address.
 */
#include "ipnet.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* IPv4 ranges that are not public (RFC 6890 and successors). */
static const struct {
    uint8_t a[4];
    uint8_t bits;
} v4_refused[] = {
    { { 0, 0, 0, 0 }, 8 },       /* "this network", 0.0.0.0 (reaches the host itself on Linux) */
    { { 10, 0, 0, 0 }, 8 },      /* private */
    { { 100, 64, 0, 0 }, 10 },   /* shared address space (CGNAT) */
    { { 127, 0, 0, 0 }, 8 },     /* loopback */
    { { 169, 254, 0, 0 }, 16 },  /* link-local, cloud metadata 169.254.169.254 */
    { { 172, 16, 0, 0 }, 12 },   /* private */
    { { 192, 0, 0, 0 }, 24 },    /* IETF protocol assignments (DS-Lite, NAT64 discovery …) */
    { { 192, 0, 2, 0 }, 24 },    /* documentation TEST-NET-1 */
    { { 192, 88, 99, 0 }, 24 },  /* 6to4 relay anycast (deprecated) */
    { { 192, 168, 0, 0 }, 16 },  /* private */
    { { 198, 18, 0, 0 }, 15 },   /* benchmarking */
    { { 198, 51, 100, 0 }, 24 }, /* documentation TEST-NET-2 */
    { { 203, 0, 113, 0 }, 24 },  /* documentation TEST-NET-3 */
    { { 224, 0, 0, 0 }, 4 },     /* multicast */
    { { 240, 0, 0, 0 }, 4 },     /* reserved, and 255.255.255.255 broadcast */
};

/* IPv6 blocks inside 2000::/3 that are not public. */
static const struct {
    uint8_t a[4];
    uint8_t bits;
} v6_refused[] = {
    { { 0x20, 0x01, 0x00, 0x00 }, 23 }, /* IETF protocol assignments: Teredo, benchmarking, ORCHID … */
    { { 0x20, 0x01, 0x0d, 0xb8 }, 32 }, /* documentation */
    { { 0x3f, 0xff, 0x00, 0x00 }, 20 }, /* documentation (RFC 9637) */
};

/* Do the first `bits` bits of a and b agree? */
static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xFF << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

static bool v4_public(const uint8_t *v4)
{
    for (size_t i = 0; i < GL_NELEM(v4_refused); i++)
        if (prefix_eq(v4, v4_refused[i].a, v4_refused[i].bits))
            return false;
    return true;
}

static const uint8_t mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
static const uint8_t nat64_prefix[12] = { 0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };

static bool v6_public(const uint8_t *a)
{
    if (memcmp(a, mapped_prefix, 12) == 0 || memcmp(a, nat64_prefix, 12) == 0)
        return v4_public(a + 12);
    if (a[0] == 0x20 && a[1] == 0x02) /* 6to4: 2002:AABB:CCDD::/48 carries A.B.C.D */
        return v4_public(a + 2);
    if ((a[0] & 0xE0) != 0x20)
        return false; /* outside global unicast: ::, ::1, ::a.b.c.d, fc00::/7, fe80::/10, ff00::/8 … */
    for (size_t i = 0; i < GL_NELEM(v6_refused); i++)
        if (prefix_eq(a, v6_refused[i].a, v6_refused[i].bits))
            return false;
    return true;
}

/* The 16-byte form of sa; false for other families or a short length. */
static bool addr16(const struct sockaddr *sa, size_t len, uint8_t out[16])
{
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        memcpy(out, mapped_prefix, 12);
        memcpy(out + 12, &s4->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        memcpy(out, &s6->sin6_addr, 16);
        return true;
    }
    return false;
}

bool gl_ipnet_is_public(const struct sockaddr *sa, size_t len)
{
    uint8_t a[16];
    return addr16(sa, len, a) && v6_public(a);
}

bool gl_ipnet_allowed(const gl_ipnet_list_t *allow, const struct sockaddr *sa, size_t len)
{
    uint8_t a[16];
    if (!addr16(sa, len, a))
        return false;
    if (v6_public(a))
        return true;
    for (int i = 0; allow && i < allow->n; i++)
        if (prefix_eq(a, allow->nets[i].addr, allow->nets[i].bits))
            return true;
    return false;
}

/* One range "addr[/bits]" of n bytes at s. */
static int parse_one(const char *s, size_t n, gl_ipnet_t *out, gl_err_t *err)
{
    char text[64], *slash;
    int64_t bits;
    bool v6;

    if (n == 0 || n >= sizeof text) {
        gl_err_set(err, "'%.*s' is not an address range (expected e.g. 10.1.2.0/24 or fd00::/8)", (int)(n > 48 ? 48 : n), s);
        return GL_INVALID;
    }
    memcpy(text, s, n);
    text[n] = '\0';
    if (strpbrk(text, " \t")) {
        gl_err_set(err, "'%.48s': separate address ranges with commas", text);
        return GL_INVALID;
    }
    slash = strchr(text, '/');
    if (slash)
        *slash = '\0';
    v6 = strchr(text, ':') != NULL;
    memset(out, 0, sizeof *out);
    if (v6 ? inet_pton(AF_INET6, text, out->addr) != 1 : inet_pton(AF_INET, text, out->addr + 12) != 1) {
        gl_err_set(err, "'%.48s' is not an IP address (expected e.g. 10.1.2.0/24 or fd00::/8)", text);
        return GL_INVALID;
    }
    if (!v6)
        memcpy(out->addr, mapped_prefix, 12);
    bits = v6 ? 128 : 32;
    if (slash && (slash[1] == '\0' || strspn(slash + 1, "0123456789") != strlen(slash + 1) ||
                  gl_parse_i64(slash + 1, 0, v6 ? 128 : 32, &bits) != GL_OK)) {
        gl_err_set(err, "'%.48s/%.8s': the prefix length must be 0 to %d", text, slash + 1, v6 ? 128 : 32);
        return GL_INVALID;
    }
    out->bits = (uint8_t)(v6 ? bits : bits + 96);
    for (unsigned b = out->bits; b < 128; b++) {
        if (out->addr[b / 8] & (0x80 >> (b % 8))) {
            gl_err_set(err, "'%.48s/%d' has bits set past the prefix length (a range starts at its first address)",
                       text, (int)bits);
            return GL_INVALID;
        }
    }
    return GL_OK;
}

int gl_ipnet_parse_list(const char *text, gl_ipnet_list_t *out, gl_err_t *err)
{
    out->n = 0;
    for (const char *p = text ? text : ""; *p;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *s = p;
        while (s < end && isspace((unsigned char)*s))
            s++;
        while (end > s && isspace((unsigned char)end[-1]))
            end--;
        if (s == end && !comma)
            break; /* "" or a trailing comma */
        if (out->n == GL_IPNET_MAX) {
            gl_err_set(err, "more than %d address ranges", GL_IPNET_MAX);
            return GL_INVALID;
        }
        if (parse_one(s, (size_t)(end - s), &out->nets[out->n], err) != GL_OK)
            return GL_INVALID;
        out->n++;
        if (!comma)
            break;
        p = comma + 1;
    }
    return GL_OK;
}

void gl_ipnet_format_list(const gl_ipnet_list_t *l, char *buf, size_t cap)
{
    size_t used = 0;
    if (cap == 0)
        return;
    buf[0] = '\0';
    for (int i = 0; i < l->n && used < cap; i++) {
        const gl_ipnet_t *r = &l->nets[i];
        char a[INET6_ADDRSTRLEN];
        bool v4 = r->bits >= 96 && memcmp(r->addr, mapped_prefix, 12) == 0;
        if (!inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? r->addr + 12 : r->addr, a, sizeof a))
            snprintf(a, sizeof a, "?");
        int n = snprintf(buf + used, cap - used, "%s%s/%d", i ? ", " : "", a, v4 ? r->bits - 96 : r->bits);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

const char *gl_ipnet_ntop(const struct sockaddr *sa, size_t len, char *buf, size_t cap)
{
    uint8_t a[16];
    if (!addr16(sa, len, a) ||
        !inet_ntop(sa->sa_family == AF_INET ? AF_INET : AF_INET6, sa->sa_family == AF_INET ? a + 12 : a, buf,
                   (socklen_t)cap))
        snprintf(buf, cap, "(family %d)", (int)sa->sa_family);
    return buf;
}
