/*
 * test_ipnet.c: the outbound address policy (core/ipnet.c) — which
 * addresses are public, the allow list's parser, and that the list lets
 * exactly its ranges through.
 */
#include "gl_test.h"

#include "ipnet.h"

#include <arpa/inet.h>
#include <netinet/in.h>

/* sa for the text address s (IPv4 if it has no ':'); len in *len */
static struct sockaddr_storage addr_of(const char *s, size_t *len)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (strchr(s, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        if (inet_pton(AF_INET6, s, &s6->sin6_addr) != 1)
            FAIL_AT("bad test address %s", s);
        *len = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        if (inet_pton(AF_INET, s, &s4->sin_addr) != 1)
            FAIL_AT("bad test address %s", s);
        *len = sizeof *s4;
    }
    return ss;
}

static bool is_public(const char *s)
{
    size_t len;
    struct sockaddr_storage ss = addr_of(s, &len);
    return gl_ipnet_is_public((struct sockaddr *)&ss, len);
}

static bool allowed(const gl_ipnet_list_t *l, const char *s)
{
    size_t len;
    struct sockaddr_storage ss = addr_of(s, &len);
    return gl_ipnet_allowed(l, (struct sockaddr *)&ss, len);
}

TEST(refused_by_default)
{
    static const char *const internal[] = {
        "0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.254", "127.0.0.1",
        "127.255.255.254", "169.254.0.1", "169.254.169.254", "172.16.0.1", "172.31.255.255", "192.0.0.8",
        "192.0.2.1", "192.88.99.1", "192.168.1.1", "198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9",
        "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
        /* IPv6 */
        "::", "::1", "::127.0.0.1", "::10.0.0.1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.1.2.3",
        "::ffff:169.254.169.254", "::ffff:0.0.0.0", "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::1", "2002:7f00:1::1", "2002:a00:1::", "2002:c0a8:101::1", "fc00::1", "fd00::1",
        "fd00:ec2::254", "fe80::1", "febf::1", "fec0::1", "ff02::1", "ff05::1:3", "100::1", "2001::1",
        "2001:db8::1", "2001:2::1", "3fff::1", "5f00::1", "::ffff:0:7f00:1" /* SIIT form: not 2000::/3 */,
    };
    for (size_t i = 0; i < GL_NELEM(internal); i++)
        if (is_public(internal[i]))
            FAIL_AT("%s counted as public", internal[i]);
}

TEST(public_addresses_pass)
{
    static const char *const pub[] = {
        "1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.1", "100.63.255.255", "100.128.0.1", "126.255.255.255",
        "128.0.0.1", "169.253.255.255", "169.255.0.1", "172.15.255.255", "172.32.0.1", "192.0.1.1", "192.167.1.1",
        "192.169.0.1", "198.17.255.255", "198.20.0.1", "223.255.255.255",
        "2606:4700:4700::1111", "2a00:1450:4001:81b::200e", "2001:4860:4860::8888", "::ffff:8.8.8.8",
        "64:ff9b::808:808", "2002:808:808::1",
    };
    for (size_t i = 0; i < GL_NELEM(pub); i++)
        if (!is_public(pub[i]))
            FAIL_AT("%s counted as internal", pub[i]);
}

TEST(other_families_refused)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_family = AF_UNIX;
    gl_ipnet_list_t l;
    gl_err_t err;
    ASSERT_EQ(gl_ipnet_parse_list("0.0.0.0/0, ::/0", &l, &err), GL_OK);
    ASSERT(!gl_ipnet_allowed(&l, (struct sockaddr *)&ss, sizeof ss));
    /* a short length is refused, not read past */
    size_t len;
    ss = addr_of("8.8.8.8", &len);
    ASSERT(!gl_ipnet_allowed(&l, (struct sockaddr *)&ss, len - 1));
}

TEST(allow_list_exact)
{
    gl_ipnet_list_t l;
    gl_err_t err;
    ASSERT_EQ(gl_ipnet_parse_list(" 10.1.2.0/24 , fd00::/8,127.0.0.1, 169.254.169.0/31", &l, &err), GL_OK);
    ASSERT_EQ(l.n, 4);
    ASSERT(allowed(&l, "10.1.2.0"));
    ASSERT(allowed(&l, "10.1.2.255"));
    ASSERT(allowed(&l, "::ffff:10.1.2.7")); /* the same address, IPv4-mapped */
    ASSERT(!allowed(&l, "10.1.3.0"));
    ASSERT(!allowed(&l, "10.1.1.255"));
    ASSERT(allowed(&l, "fd00::1"));
    ASSERT(allowed(&l, "fdff:ffff::1"));
    ASSERT(!allowed(&l, "fc00::1"));
    ASSERT(allowed(&l, "fd00:ec2::254")); /* inside fd00::/8: the operator listed it */
    ASSERT(allowed(&l, "127.0.0.1"));
    ASSERT(!allowed(&l, "127.0.0.2"));
    ASSERT(!allowed(&l, "::1"));
    ASSERT(allowed(&l, "169.254.169.1"));
    ASSERT(!allowed(&l, "169.254.169.254"));
    ASSERT(!allowed(&l, "64:ff9b::a01:201")); /* NAT64 of 10.1.2.1: not listed as such */
    ASSERT(allowed(&l, "8.8.8.8"));           /* public: always */
    ASSERT(!allowed(NULL, "10.1.2.3"));
    ASSERT(allowed(NULL, "2606:4700:4700::1111"));

    char text[256];
    gl_ipnet_format_list(&l, text, sizeof text);
    ASSERT_STR_EQ(text, "10.1.2.0/24, fd00::/8, 127.0.0.1/32, 169.254.169.0/31");
    ASSERT_EQ(gl_ipnet_parse_list("", &l, &err), GL_OK);
    ASSERT_EQ(l.n, 0);
    ASSERT_EQ(gl_ipnet_parse_list("  ", &l, &err), GL_OK);
    ASSERT_EQ(l.n, 0);
    ASSERT_EQ(gl_ipnet_parse_list("0.0.0.0/0", &l, &err), GL_OK);
    ASSERT(allowed(&l, "127.0.0.1") && allowed(&l, "::ffff:10.0.0.1") && !allowed(&l, "::1"));
}

TEST(bad_lists_are_errors)
{
    static const struct {
        const char *text, *msg;
    } bad[] = {
        { "10.1.2.5/24", "bits set past the prefix" },
        { "fd00::1/8", "bits set past the prefix" },
        { "10.0.0.0/33", "prefix length must be 0 to 32" },
        { "::/129", "prefix length must be 0 to 128" },
        { "10.0.0.0/", "prefix length" },
        { "10.0.0.0/+8", "prefix length" },
        { "127.1", "is not an IP address" },
        { "0x7f000001", "is not an IP address" },
        { "localhost", "is not an IP address" },
        { "10.0.0.0/8,,fd00::/8", "is not an address range" },
        { "10.0.0.0/8 fd00::/8", "separate address ranges with commas" },
    };
    gl_ipnet_list_t l;
    for (size_t i = 0; i < GL_NELEM(bad); i++) {
        gl_err_t err;
        gl_err_clear(&err);
        if (gl_ipnet_parse_list(bad[i].text, &l, &err) == GL_OK)
            FAIL_AT("'%s' parsed", bad[i].text);
        ASSERT_CONTAINS(err.msg, bad[i].msg);
    }
    char many[GL_IPNET_MAX * 16 + 32] = "";
    size_t o = 0;
    for (int i = 0; i <= GL_IPNET_MAX; i++)
        o += (size_t)snprintf(many + o, sizeof many - o, "10.0.%d.0/24,", i);
    gl_err_t err;
    ASSERT(gl_ipnet_parse_list(many, &l, &err) != GL_OK);
    ASSERT_CONTAINS(err.msg, "more than 64");
}

TEST_MAIN()
