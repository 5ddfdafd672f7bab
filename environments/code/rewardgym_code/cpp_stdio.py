"""`cpp_stdio`: a C++17 program (g++ -O2 -std=c++17) reading stdin, writing stdout."""

from __future__ import annotations

from rewardgym.sdk import Example

from rewardgym_code.stdio import EXAMPLE_TASK, StdioEnvironment, StdioTask, stdio_description

CPP_TAGS = frozenset({"cpp", "c++", "cxx", "cc"})

_SUM = """```cpp
#include <iostream>

int main() {
    long long n, x, total = 0;
    std::cin >> n;
    for (long long i = 0; i < n && std::cin >> x; ++i) total += %s;
    std::cout << total << "\\n";
}
```"""


class CppStdioEnv(StdioEnvironment):
    name = "cpp_stdio"
    version = "1.0.0"
    description = stdio_description("C++17", "g++ -O2 -std=c++17, compiled once per program", "cpp / ```c++")
    language = "cpp"
    fence_tags = CPP_TAGS

    def examples(self) -> list[Example[StdioTask]]:
        return [Example(EXAMPLE_TASK, _SUM % "x", 1.0), Example(EXAMPLE_TASK, _SUM % "x * x", 0.0)]
