/*
 * tokens.c: the credentials a request carries (see tokens.h).
 */
#include "tokens.h"

#include <string.h>

bool gl_token_chars_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

bool gl_cookie_session_token(const char *cookies, char out[GL_TOKEN_LEN + 1])
{
    static const char name[] = GL_SESSION_COOKIE "=";
    for (const char *p = cookies; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        if (strncmp(p, name, sizeof name - 1) == 0) {
            const char *v = p + sizeof name - 1;
            size_t n = strcspn(v, ";");
            if (n == GL_TOKEN_LEN && gl_token_chars_ok(v, n)) {
                memcpy(out, v, n);
                out[n] = '\0';
                return true;
            }
        }
        p += strcspn(p, ";");
    }
    return false;
}

const char *gl_bearer_api_key(const char *h)
{
    if (!h || strncmp(h, "Bearer ", 7) != 0)
        return NULL;
    const char *k = h + 7;
    size_t n = strlen(k);
    if (n < 16 || n > 80 || strncmp(k, "gk_", 3) != 0 || !gl_token_chars_ok(k, n))
        return NULL;
    return k;
}
