"""`c_stdio`: a C17 program (gcc -O2 -std=c17, linked with -lm) reading stdin, writing stdout."""

from __future__ import annotations

from rewardgym.sdk import Example

from rewardgym_code.stdio import EXAMPLE_TASK, StdioEnvironment, StdioTask, stdio_description

C_TAGS = frozenset({"c", "h"})

_SUM = """```c
#include <stdio.h>

int main(void) {
    long long n, x, total = 0;
    if (scanf("%%lld", &n) != 1) return 1;
    for (long long i = 0; i < n && scanf("%%lld", &x) == 1; ++i) total += %s;
    printf("%%lld\\n", total);
    return 0;
}
```"""


class CStdioEnv(StdioEnvironment):
    name = "c_stdio"
    version = "1.0.0"
    description = stdio_description("C17", "gcc -O2 -std=c17 -lm, compiled once per program", "c")
    language = "c"
    fence_tags = C_TAGS

    def examples(self) -> list[Example[StdioTask]]:
        return [Example(EXAMPLE_TASK, _SUM % "x", 1.0), Example(EXAMPLE_TASK, _SUM % "1", 0.0)]
