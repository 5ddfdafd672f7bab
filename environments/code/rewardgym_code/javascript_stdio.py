"""`javascript_stdio`: a Node.js program (CommonJS, no packages) reading stdin, writing stdout."""

from __future__ import annotations

from rewardgym.sdk import Example

from rewardgym_code.stdio import EXAMPLE_TASK, StdioEnvironment, StdioTask, stdio_description

JAVASCRIPT_TAGS = frozenset({"javascript", "js", "node", "nodejs"})

_SUM = """```javascript
const [n, ...xs] = require("fs").readFileSync(0, "utf8").split(/\\s+/).filter(Boolean).map(Number);
console.log(xs.slice(0, n).reduce((a, b) => %s, 0));
```"""


class JavascriptStdioEnv(StdioEnvironment):
    name = "javascript_stdio"
    version = "1.0.0"
    description = stdio_description("JavaScript (Node.js)", "node, heap limited to the memory limit",
                                    "javascript / ```js")
    language = "javascript"
    fence_tags = JAVASCRIPT_TAGS

    def examples(self) -> list[Example[StdioTask]]:
        return [Example(EXAMPLE_TASK, _SUM % "a + b", 1.0), Example(EXAMPLE_TASK, _SUM % "a - b", 0.0)]
