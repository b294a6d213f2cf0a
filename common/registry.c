/* registry: requests to a Confluent-compatible schema registry over libcurl. */
#include "registry.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "errstr.h"
#include "strbuf.h"

/* Longest answer read: a schema is a few kB; anything far larger is not an answer. */
#define MAX_BODY (4 * 1024 * 1024)

struct registry {
    pthread_mutex_t lock;
    CURL *curl;
    struct curl_slist *headers;
    char *url;
    char *user, *password;
    long timeout_ms;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int set_str(char **dst, const char *src)
{
    if (!src)
        return 0;
    return (*dst = strdup(src)) ? 0 : -1;
}

registry *registry_new(const char *url, const char *user, const char *password,
                       long timeout_ms, char *errstr, size_t errstr_size)
{
    registry *r;
    const char *host;
    size_t n;

    if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
        errstr_fail(errstr, errstr_size, "registry url '%s' is not http:// or https://",
                    url ? url : "");
        return NULL;
    }
    host = strstr(url, "://") + 3;
    n = strcspn(host, "/");
    if (memchr(host, '@', n)) {
        errstr_fail(errstr, errstr_size, "registry url carries credentials: give them as "
                    "registry.user and registry.password instead");
        return NULL;
    }
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        errstr_fail(errstr, errstr_size, "libcurl: %s", curl_easy_strerror(global_rc));
        return NULL;
    }
    if (!(r = calloc(1, sizeof *r)))
        goto oom;
    pthread_mutex_init(&r->lock, NULL);
    r->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
    if (set_str(&r->url, url) < 0 || set_str(&r->user, user) < 0
        || set_str(&r->password, password) < 0)
        goto oom;
    n = strlen(r->url);
    while (n > 0 && r->url[n - 1] == '/')
        r->url[--n] = '\0';
    r->headers = curl_slist_append(NULL, "Accept: application/vnd.schemaregistry.v1+json, "
                                         "application/json");
    if (r->headers)
        r->headers = curl_slist_append(r->headers,
                                       "Content-Type: application/vnd.schemaregistry.v1+json");
    if (!r->headers || !(r->curl = curl_easy_init()))
        goto oom;
    return r;
oom:
    registry_destroy(r);
    errstr_fail(errstr, errstr_size, "out of memory");
    return NULL;
}

void registry_destroy(registry *r)
{
    if (!r)
        return;
    if (r->curl)
        curl_easy_cleanup(r->curl);
    curl_slist_free_all(r->headers);
    free(r->url);
    free(r->user);
    if (r->password) {
        memset(r->password, 0, strlen(r->password));
        free(r->password);
    }
    pthread_mutex_destroy(&r->lock);
    free(r);
}

const char *registry_url(const registry *r)
{
    return r->url;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *opaque)
{
    strbuf *b = opaque;
    size_t n = size * nmemb;

    if (b->len + n > MAX_BODY || strbuf_append(b, data, n) < 0)
        return 0;   /* libcurl then fails the transfer */
    return n;
}

/* One request: method GET (body NULL) or POST (body, JSON text) to url + path. Returns
 * REGISTRY_OK with the status in *status and the parsed JSON answer in *answer (the
 * caller decrefs it), or REGISTRY_UNAVAILABLE + errstr starting with what (no answer,
 * 5xx, not JSON), or REGISTRY_DENIED (401, 403, a certificate that does not verify).
 * Called with r->lock held. */
static int request(registry *r, const char *what, const char *path, const char *body,
                   long *status, json_t **answer, char *errstr, size_t errstr_size)
{
    char url[2048];
    strbuf resp;
    json_error_t jerr;
    CURLcode rc;
    int rval = REGISTRY_UNAVAILABLE;

    *answer = NULL;
    *status = 0;
    if ((size_t)snprintf(url, sizeof url, "%s%s", r->url, path) >= sizeof url)
        return errstr_fail(errstr, errstr_size, "registry url too long"), REGISTRY_REFUSED;
    strbuf_init(&resp);
    curl_easy_reset(r->curl);
    curl_easy_setopt(r->curl, CURLOPT_URL, url);
    curl_easy_setopt(r->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->curl, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, &resp);
    if (r->user) {
        curl_easy_setopt(r->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(r->curl, CURLOPT_USERNAME, r->user);
        curl_easy_setopt(r->curl, CURLOPT_PASSWORD, r->password ? r->password : "");
    }
    if (body) {
        curl_easy_setopt(r->curl, CURLOPT_POST, 1L);
        curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    rc = curl_easy_perform(r->curl);
    if (rc != CURLE_OK) {
        errstr_fail(errstr, errstr_size, "%s: %s", what, curl_easy_strerror(rc));
        /* A certificate that does not verify is this client's setting, not an outage. */
        if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE
            || rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_LOGIN_DENIED)
            rval = REGISTRY_DENIED;
        goto out;
    }
    curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, status);
    if (*status >= 500) {
        errstr_fail(errstr, errstr_size, "%s: HTTP %ld: %.200s", what, *status,
                    strbuf_str(&resp));
        goto out;
    }
    if (*status == 401 || *status == 403) {
        /* Credentials refused: never an outage (a program must not start on remembered
         * ids with a wrong registry.password), whatever the body is. */
        errstr_fail(errstr, errstr_size, "%s: HTTP %ld: the registry refused the credentials",
                    what, *status);
        rval = REGISTRY_DENIED;
        goto out;
    }
    *answer = json_loadb(strbuf_str(&resp), resp.len, 0, &jerr);
    if (!*answer) {
        errstr_fail(errstr, errstr_size, "%s: HTTP %ld, answer is not JSON (%s): %.120s", what,
                    *status, jerr.text, strbuf_str(&resp));
        goto out;
    }
    rval = REGISTRY_OK;
out:
    strbuf_release(&resp);
    return rval;
}

/* A 4xx answer: its error_code into *code (0 when none) and a message into errstr. */
static int refused(const char *what, long status, json_t *answer, int *code, char *errstr,
                   size_t errstr_size)
{
    json_t *c = json_object_get(answer, "error_code");
    json_t *m = json_object_get(answer, "message");
    int ec = json_is_integer(c) ? (int)json_integer_value(c) : 0;

    if (code)
        *code = ec;
    errstr_fail(errstr, errstr_size, "%s: HTTP %ld, error %d: %s", what, status, ec,
                json_is_string(m) ? json_string_value(m) : "(no message)");
    return REGISTRY_REFUSED;
}

/* The subject, URL-escaped, into out. */
static int escape(registry *r, const char *subject, char *out, size_t size, char *errstr,
                  size_t errstr_size)
{
    char *e = curl_easy_escape(r->curl, subject, 0);
    int fits = e && strlen(e) < size;

    if (fits)
        strcpy(out, e);
    curl_free(e);
    if (!fits)
        return errstr_fail(errstr, errstr_size, "subject '%.100s' is too long", subject);
    return 0;
}

/* {"schema": "<text>"} as a string the caller frees. */
static char *schema_body(const char *schema)
{
    json_t *o = json_pack("{s:s}", "schema", schema);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return s;
}

/* POST body to path; REGISTRY_OK with the 2xx answer in *answer, else refused/unavailable. */
static int post(registry *r, const char *what, const char *path, const char *schema,
                json_t **answer, int *code, char *errstr, size_t errstr_size)
{
    char *body = schema_body(schema);
    long status;
    int rval;

    if (code)
        *code = 0;
    if (!body)
        return errstr_fail(errstr, errstr_size, "out of memory"), REGISTRY_REFUSED;
    pthread_mutex_lock(&r->lock);
    rval = request(r, what, path, body, &status, answer, errstr, errstr_size);
    pthread_mutex_unlock(&r->lock);
    free(body);
    if (rval == REGISTRY_OK && (status < 200 || status > 299)) {
        rval = refused(what, status, *answer, code, errstr, errstr_size);
        json_decref(*answer);
        *answer = NULL;
    }
    return rval;
}

/* An integer member of a 2xx answer, or REGISTRY_UNAVAILABLE + errstr. */
static int member_int(json_t *answer, const char *key, const char *what, int *out,
                      char *errstr, size_t errstr_size)
{
    json_t *v = json_object_get(answer, key);

    if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 0x7fffffff) {
        errstr_fail(errstr, errstr_size, "%s: the answer has no positive \"%s\"", what, key);
        return REGISTRY_UNAVAILABLE;
    }
    *out = (int)json_integer_value(v);
    return REGISTRY_OK;
}

int registry_lookup(registry *r, const char *subject, const char *schema, int *id,
                    int *version, int *error_code, char *errstr, size_t errstr_size)
{
    char esc[512], path[600], what[700];
    json_t *answer = NULL;
    int rval;

    if (escape(r, subject, esc, sizeof esc, errstr, errstr_size) < 0)
        return REGISTRY_REFUSED;
    snprintf(path, sizeof path, "/subjects/%s", esc);
    snprintf(what, sizeof what, "schema registry %s: looking up subject '%s'", r->url, subject);
    rval = post(r, what, path, schema, &answer, error_code, errstr, errstr_size);
    if (rval == REGISTRY_OK)
        rval = member_int(answer, "id", what, id, errstr, errstr_size);
    if (rval == REGISTRY_OK)
        rval = member_int(answer, "version", what, version, errstr, errstr_size);
    json_decref(answer);
    return rval;
}

int registry_register(registry *r, const char *subject, const char *schema, int *id,
                      char *errstr, size_t errstr_size)
{
    char esc[512], path[600], what[700];
    json_t *answer = NULL;
    int rval;

    if (escape(r, subject, esc, sizeof esc, errstr, errstr_size) < 0)
        return REGISTRY_REFUSED;
    snprintf(path, sizeof path, "/subjects/%s/versions", esc);
    snprintf(what, sizeof what, "schema registry %s: registering under subject '%s'", r->url,
             subject);
    rval = post(r, what, path, schema, &answer, NULL, errstr, errstr_size);
    if (rval == REGISTRY_OK)
        rval = member_int(answer, "id", what, id, errstr, errstr_size);
    json_decref(answer);
    return rval;
}

/* GET path; REGISTRY_OK with a 2xx answer, REGISTRY_REFUSED for 4xx (an unknown id). */
static int get(registry *r, const char *path, int id, json_t **answer, char *errstr,
               size_t errstr_size)
{
    char what[700];
    long status;
    int rval;

    snprintf(what, sizeof what, "schema registry %s: fetching schema id %d", r->url, id);
    pthread_mutex_lock(&r->lock);
    rval = request(r, what, path, NULL, &status, answer, errstr, errstr_size);
    pthread_mutex_unlock(&r->lock);
    if (rval == REGISTRY_OK && (status < 200 || status > 299)) {
        json_t *m = json_object_get(*answer, "message");
        errstr_fail(errstr, errstr_size, "schema id %d is not in the registry at %s (HTTP %ld: "
                    "%s)", id, r->url, status, json_is_string(m) ? json_string_value(m) : "");
        json_decref(*answer);
        *answer = NULL;
        rval = REGISTRY_REFUSED;
    }
    return rval;
}

int registry_fetch(registry *r, int id, char **schema, char **subject, int *version,
                   char *errstr, size_t errstr_size)
{
    char path[64];
    json_t *answer = NULL, *versions = NULL, *first, *s;
    int rval;

    *schema = *subject = NULL;
    snprintf(path, sizeof path, "/schemas/ids/%d", id);
    if ((rval = get(r, path, id, &answer, errstr, errstr_size)) != REGISTRY_OK)
        goto out;
    s = json_object_get(answer, "schema");
    if (!json_is_string(s)) {
        rval = REGISTRY_UNAVAILABLE;
        errstr_fail(errstr, errstr_size, "schema registry %s%s: the answer has no \"schema\"",
                    r->url, path);
        goto out;
    }
    snprintf(path, sizeof path, "/schemas/ids/%d/versions", id);
    if ((rval = get(r, path, id, &versions, errstr, errstr_size)) != REGISTRY_OK)
        goto out;
    first = json_array_get(versions, 0);
    if (!json_is_string(json_object_get(first, "subject"))
        || member_int(first, "version", "", version, errstr, errstr_size) != REGISTRY_OK) {
        rval = REGISTRY_UNAVAILABLE;
        errstr_fail(errstr, errstr_size, "schema registry %s%s: no subject and version in the "
                    "answer", r->url, path);
        goto out;
    }
    *schema = strdup(json_string_value(s));
    *subject = strdup(json_string_value(json_object_get(first, "subject")));
    if (!*schema || !*subject) {
        free(*schema);
        free(*subject);
        *schema = *subject = NULL;
        rval = REGISTRY_UNAVAILABLE;
        errstr_fail(errstr, errstr_size, "out of memory");
    }
out:
    json_decref(answer);
    json_decref(versions);
    return rval;
}
