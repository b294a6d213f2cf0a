/* tool: running an external checker (promtool) from a unit test. Linked into every unit
 * test. */
#ifndef TOOL_H
#define TOOL_H

#include <stddef.h>

/* 1 when program is on PATH. */
int tool_available(const char *program);

/* Run the shell command cmd with input on its stdin, its stdout and stderr into out (size
 * bytes, NUL-terminated). Its exit status, -2 when it could not run. */
int tool_run(const char *cmd, const char *input, char *out, size_t size);

#endif
