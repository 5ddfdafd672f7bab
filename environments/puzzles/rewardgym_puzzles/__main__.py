"""`python -m rewardgym_puzzles`: regenerate examples.json (see examples.py)."""

from __future__ import annotations

import json
import random

from rewardgym_puzzles import FAMILY, catalogue
from rewardgym_puzzles.examples import PATH


def main() -> None:
    examples = {}
    for name, env in sorted(FAMILY.instantiate().items()):
        easiest = catalogue.served_difficulties(env.dataset)[0]  # type: ignore[attr-defined]
        generated = env.generate(random.Random(0), env.Options(difficulty=easiest))
        examples[name] = {"task": generated.task.model_dump(mode="json"), "completion": generated.solution}
    PATH.write_text(json.dumps(examples, indent=None, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"wrote {len(examples)} examples to {PATH}")


if __name__ == "__main__":
    main()
