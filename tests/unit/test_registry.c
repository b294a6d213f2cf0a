/* Unit tests of common/registry (the schema registry client) against a fake registry: a
 * libmicrohttpd server on a free loopback port, in this process, that answers the few
 * requests of the Confluent API the client makes from a table. A unit test only: the
 * integration tests (tests/integration/test_7*.sh) use the real Apicurio Registry. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

/* The last request the fake saw. */
static char last_method[8], last_url[256], last_auth[256];
static char body[8192];
static size_t body_len;

/* One canned answer per (method, url[, body fragment]). */
static const struct canned {
    const char *method, *url, *body_has;
    unsigned status;
    const char *answer;
} canned[] = {
    {"POST", "/subjects/id.bpjs.adhoc.Known", "known", 200,
     "{\"subject\":\"id.bpjs.adhoc.Known\",\"version\":3,\"id\":7,\"schema\":\"x\"}"},
    {"POST", "/subjects/id.bpjs.adhoc.Known", NULL, 404,
     "{\"error_code\":40403,\"message\":\"Schema not found\"}"},
    {"POST", "/subjects/id.bpjs.adhoc.New", NULL, 404,
     "{\"error_code\":40401,\"message\":\"Subject not found\"}"},
    {"POST", "/subjects/id.bpjs.adhoc.New/versions", "incompatible", 409,
     "{\"error_code\":409,\"message\":\"Incompatible artifact\"}"},
    {"POST", "/subjects/id.bpjs.adhoc.New/versions", NULL, 200, "{\"id\":8}"},
    /* libmicrohttpd hands the path over unescaped */
    {"POST", "/subjects/a b/c/versions", NULL, 200, "{\"id\":9}"},
    {"GET", "/schemas/ids/7", NULL, 200, "{\"schema\":\"{\\\"type\\\":\\\"string\\\"}\"}"},
    {"GET", "/schemas/ids/7/versions", NULL, 200,
     "[{\"subject\":\"id.bpjs.adhoc.Known\",\"version\":3}]"},
    {"GET", "/schemas/ids/11", NULL, 503, "busy"},
    {"GET", "/schemas/ids/12", NULL, 200, "<html>not json</html>"},
    {"GET", "/schemas/ids/13", NULL, 200, "{\"schema\":42}"},
    /* A proxy's refusal, in HTML as proxies answer. */
    {"POST", "/subjects/id.bpjs.adhoc.Guarded", NULL, 401, "<html>Unauthorized</html>"},
    {"GET", "/schemas/ids/14", NULL, 403, "<html>Forbidden</html>"},
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
    static int first;
    const char *auth, *reply = "{\"error_code\":40403,\"message\":\"Schema 99 not found.\"}";
    unsigned status = 404;
    struct MHD_Response *resp;
    enum MHD_Result rc;

    (void)cls;
    (void)version;
    if (!*state) {              /* headers only: wait for the body */
        *state = &first;
        body_len = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size < sizeof body - 1 - body_len ? *upload_size
                                                             : sizeof body - 1 - body_len;
        memcpy(body + body_len, upload, n);
        body_len += n;
        *upload_size = 0;
        return MHD_YES;
    }
    body[body_len] = '\0';
    snprintf(last_method, sizeof last_method, "%s", method);
    snprintf(last_url, sizeof last_url, "%s", url);
    auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    snprintf(last_auth, sizeof last_auth, "%s", auth ? auth : "");
    for (size_t i = 0; i < sizeof canned / sizeof canned[0]; i++) {
        const struct canned *c = &canned[i];
        if (strcmp(c->method, method) == 0 && strcmp(c->url, url) == 0
            && (!c->body_has || strstr(body, c->body_has))) {
            status = c->status;
            reply = c->answer;
            break;
        }
    }
    resp = MHD_create_response_from_buffer(strlen(reply), (void *)reply, MHD_RESPMEM_MUST_COPY);
    rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static struct MHD_Daemon *fake;
static char base[128];
static char err[1024];

static void fake_start(void)
{
    const union MHD_DaemonInfo *info;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};

    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fake = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer, NULL,
                            MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_END);
    cr_assert_not_null(fake, "the fake registry did not start");
    info = MHD_get_daemon_info(fake, MHD_DAEMON_INFO_BIND_PORT);
    /* A trailing '/' the client drops. */
    snprintf(base, sizeof base, "http://127.0.0.1:%u/", info->port);
}

static void fake_stop(void)
{
    MHD_stop_daemon(fake);
}

TestSuite(registry, .init = fake_start, .fini = fake_stop);

static registry *client(const char *user, const char *password)
{
    registry *r = registry_new(base, user, password, 2000, err, sizeof err);

    cr_assert_not_null(r, "registry_new: %s", err);
    return r;
}

Test(registry, lookup_finds_a_registered_schema)
{
    registry *r = client(NULL, NULL);
    int id = 0, version = 0, code = -1;

    cr_assert_eq(registry_lookup(r, "id.bpjs.adhoc.Known", "\"known\"", &id, &version, &code,
                                 err, sizeof err), REGISTRY_OK, "lookup: %s", err);
    cr_assert_eq(id, 7, "id %d", id);
    cr_assert_eq(version, 3, "version %d", version);
    cr_assert_str_eq(last_method, "POST", "method %s", last_method);
    cr_assert_str_eq(body, "{\"schema\":\"\\\"known\\\"\"}", "body %s", body);
    cr_assert_str_eq(last_auth, "", "no credentials, no Authorization header: '%s'", last_auth);
    registry_destroy(r);
}

Test(registry, lookup_tells_a_missing_schema_and_subject_apart)
{
    registry *r = client(NULL, NULL);
    int id = 0, version = 0, code = 0;

    cr_assert_eq(registry_lookup(r, "id.bpjs.adhoc.Known", "\"other\"", &id, &version, &code,
                                 err, sizeof err), REGISTRY_REFUSED, "missing schema found");
    cr_assert_eq(code, REGISTRY_SCHEMA_NOT_FOUND, "code %d", code);
    cr_assert_not_null(strstr(err, "Schema not found"), "message: %s", err);
    cr_assert_not_null(strstr(err, "id.bpjs.adhoc.Known"), "message names the subject: %s", err);
    cr_assert_eq(registry_lookup(r, "id.bpjs.adhoc.New", "\"x\"", &id, &version, &code, err,
                                 sizeof err), REGISTRY_REFUSED, "missing subject found");
    cr_assert_eq(code, REGISTRY_SUBJECT_NOT_FOUND, "code %d", code);
    registry_destroy(r);
}

Test(registry, register_answers_the_id_or_why_not)
{
    registry *r = client(NULL, NULL);
    int id = 0;

    cr_assert_eq(registry_register(r, "id.bpjs.adhoc.New", "\"fine\"", &id, err, sizeof err),
                 REGISTRY_OK, "register: %s", err);
    cr_assert_eq(id, 8, "id %d", id);
    cr_assert_eq(registry_register(r, "id.bpjs.adhoc.New", "\"incompatible\"", &id, err,
                                   sizeof err), REGISTRY_REFUSED, "incompatible accepted");
    cr_assert_not_null(strstr(err, "HTTP 409"), "message: %s", err);
    cr_assert_not_null(strstr(err, "Incompatible artifact"), "message: %s", err);
    registry_destroy(r);
}

Test(registry, subject_is_escaped_in_the_path)
{
    registry *r = client(NULL, NULL);
    int id = 0;

    cr_assert_eq(registry_register(r, "a b/c", "\"x\"", &id, err, sizeof err), REGISTRY_OK,
                 "register: %s (url %s)", err, last_url);
    cr_assert_eq(id, 9, "id %d", id);
    registry_destroy(r);
}

Test(registry, fetch_answers_schema_subject_and_version)
{
    registry *r = client(NULL, NULL);
    char *schema = NULL, *subject = NULL;
    int version = 0;

    cr_assert_eq(registry_fetch(r, 7, &schema, &subject, &version, err, sizeof err),
                 REGISTRY_OK, "fetch: %s", err);
    cr_assert_str_eq(schema, "{\"type\":\"string\"}", "schema %s", schema);
    cr_assert_str_eq(subject, "id.bpjs.adhoc.Known", "subject %s", subject);
    cr_assert_eq(version, 3, "version %d", version);
    free(schema);
    free(subject);
    registry_destroy(r);
}

Test(registry, unknown_id_is_refused_and_a_broken_answer_is_unavailable)
{
    registry *r = client(NULL, NULL);
    char *schema = NULL, *subject = NULL;
    int version = 0;

    cr_assert_eq(registry_fetch(r, 99, &schema, &subject, &version, err, sizeof err),
                 REGISTRY_REFUSED, "unknown id fetched");
    cr_assert_not_null(strstr(err, "schema id 99 is not in the registry"), "message: %s", err);
    cr_assert_null(schema, "schema set on failure");
    cr_assert_eq(registry_fetch(r, 11, &schema, &subject, &version, err, sizeof err),
                 REGISTRY_UNAVAILABLE, "HTTP 503 is not unavailable");
    cr_assert_not_null(strstr(err, "HTTP 503"), "message: %s", err);
    cr_assert_eq(registry_fetch(r, 12, &schema, &subject, &version, err, sizeof err),
                 REGISTRY_UNAVAILABLE, "an HTML answer is not unavailable");
    cr_assert_not_null(strstr(err, "not JSON"), "message: %s", err);
    cr_assert_eq(registry_fetch(r, 13, &schema, &subject, &version, err, sizeof err),
                 REGISTRY_UNAVAILABLE, "a schema that is no string was taken");
    registry_destroy(r);
}

Test(registry, basic_auth_goes_in_a_header)
{
    registry *r = client("analyst", "s3cret");
    int id = 0, version = 0, code = 0;

    registry_lookup(r, "id.bpjs.adhoc.Known", "\"known\"", &id, &version, &code, err,
                    sizeof err);
    /* base64("analyst:s3cret") */
    cr_assert_str_eq(last_auth, "Basic YW5hbHlzdDpzM2NyZXQ=", "Authorization: %s", last_auth);
    registry_destroy(r);
}

Test(registry, refused_credentials_are_denied_never_unavailable)
{
    registry *r = client("analyst", "wrong");
    int id = 0, version = 0, code = 0;
    char *schema = NULL, *subject = NULL;

    cr_assert_eq(registry_lookup(r, "id.bpjs.adhoc.Guarded", "\"x\"", &id, &version, &code,
                                 err, sizeof err), REGISTRY_DENIED, "%s", err);
    cr_assert(strstr(err, "HTTP 401") && strstr(err, "refused the credentials"), "%s", err);
    cr_assert_eq(registry_fetch(r, 14, &schema, &subject, &version, err, sizeof err),
                 REGISTRY_DENIED, "%s", err);
    cr_assert(strstr(err, "HTTP 403"), "%s", err);
    cr_assert_null(schema);
    registry_destroy(r);
}

Test(registry, no_server_is_unavailable)
{
    registry *r = registry_new("http://127.0.0.1:1", NULL, NULL, 2000, err, sizeof err);
    char *schema = NULL, *subject = NULL;
    int version = 0;

    cr_assert_not_null(r, "registry_new: %s", err);
    cr_assert_eq(registry_fetch(r, 7, &schema, &subject, &version, err, sizeof err),
                 REGISTRY_UNAVAILABLE, "a closed port answered");
    cr_assert_not_null(strstr(err, "schema registry http://127.0.0.1:1: fetching schema id 7: "),
                       "message: %s", err);
    registry_destroy(r);
}

Test(registry, urls_with_credentials_or_other_schemes_are_refused)
{
    cr_assert_null(registry_new("http://me:pw@127.0.0.1:8081", NULL, NULL, 1000, err,
                                sizeof err), "credentials in the URL accepted");
    cr_assert_not_null(strstr(err, "registry.password"), "message: %s", err);
    cr_assert_null(strstr(err, "pw@"), "the password reached the message: %s", err);
    cr_assert_null(registry_new("file:///etc/passwd", NULL, NULL, 1000, err, sizeof err),
                   "file:// accepted");
    cr_assert_null(registry_new(NULL, NULL, NULL, 1000, err, sizeof err), "NULL accepted");
    registry_destroy(NULL);
}
