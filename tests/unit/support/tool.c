/* tool: run an external checker on a test's text. */
#include "tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int tool_available(const char *program)
{
    char cmd[256];

    snprintf(cmd, sizeof cmd, "command -v '%s' >/dev/null 2>&1", program);
    return system(cmd) == 0;
}

int tool_run(const char *cmd, const char *input, char *out, size_t size)
{
    char path[] = "/tmp/unit_tool.XXXXXX", line[1024];
    int fd = mkstemp(path), rc;
    FILE *f;
    size_t n = 0;

    if (fd < 0)
        return -2;
    close(fd);
    snprintf(line, sizeof line, "%s >%s 2>&1", cmd, path);
    f = popen(line, "w");
    rc = f ? (fputs(input, f), pclose(f)) : -1;
    if ((f = fopen(path, "r"))) {
        n = fread(out, 1, size - 1, f);
        fclose(f);
    }
    out[n] = '\0';
    unlink(path);
    return rc == -1 ? -2 : WEXITSTATUS(rc);
}
