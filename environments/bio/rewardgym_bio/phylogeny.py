"""`phylogeny` (constructive): a Newick tree built from a stated distance matrix by UPGMA or neighbour joining.

Compared with Biopython's DistanceTreeConstructor tree on unrooted topology (bipartitions of the taxa; branch
lengths and the root are ignored): reward = the gold's bipartitions the answer has / (n - 3). For a fully resolved
answer that is 1 - RF / (2 (n - 3)), the normalised Robinson-Foulds distance; an unresolved answer (a star tree,
a polytomy) earns only the bipartitions it does have, so leaving the tree unresolved is never worth half a reward.
"""

from __future__ import annotations

import random
import re
from io import StringIO
from typing import Literal

from Bio import Phylo
from Bio.Phylo.BaseTree import Tree
from Bio.Phylo.TreeConstruction import DistanceMatrix, DistanceTreeConstructor
from pydantic import Field

from rewardgym.sdk import Environment, Generated, GenerateOptions, InvalidTask, Score, TaskModel

from rewardgym_bio.common import find_answer, per_task, unreadable

MAX_TAXA = 30
MAX_NEWICK_CHARS = 20_000
MAX_NEWICK_DEPTH = 2 * MAX_TAXA
"""Deeper parenthesis nesting is refused unparsed: Biopython's Newick reader and tree walks recurse."""
TAXA_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (4, 5), "medium": (6, 8), "hard": (9, 12)}
NAMES = ("Aalpha", "Bbeta", "Cgamma", "Ddelta", "Eepsilon", "Fzeta", "Geta", "Htheta", "Iiota", "Kkappa",
         "Llambda", "Mmu", "Nnu", "Oxi", "Pomicron", "Rrho")
MAX_GENERATION_TRIES = 100
_NOT_NEWICK = re.compile(r"[^\w\s(),:;.'+-]", re.ASCII)
"""Characters no Newick tree of plain taxon names holds: their presence means prose, not a tree."""


class PhylogenyTask(TaskModel):
    taxa: list[str] = Field(min_length=3, max_length=MAX_TAXA)
    distances: list[list[float]] = Field(description="Lower triangle with zero diagonal: row i has i + 1 values.")
    method: Literal["upgma", "nj"]


class PhylogenyOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 4-5 taxa; medium: 6-8; hard: 9-12."""


Split = frozenset[str]


def splits(tree: Tree, taxa: frozenset[str]) -> set[Split]:
    """Non-trivial bipartitions, each written as the side without the first taxon (alphabetically).

    Leaf sets are built bottom-up in one iterative post-order pass (no per-clade `get_terminals`, no recursion).
    """
    anchor = min(taxa)
    below: dict[int, frozenset[str]] = {}
    stack = [(tree.root, False)]
    while stack:
        clade, children_done = stack.pop()
        if not clade.clades:
            below[id(clade)] = frozenset([clade.name])
        elif children_done:
            below[id(clade)] = frozenset().union(*(below[id(child)] for child in clade.clades))
        else:
            stack.append((clade, True))
            stack.extend((child, False) for child in clade.clades)
    found = set()
    for leaves in below.values():
        side = leaves if anchor not in leaves else taxa - leaves
        if 2 <= len(side) <= len(taxa) - 2:
            found.add(side)
    return found


def gold_tree(task: PhylogenyTask) -> Tree:
    names = task.taxa
    if len(set(names)) != len(names) or any(not name.isidentifier() for name in names):
        raise InvalidTask("Expected distinct taxon names made of letters, digits and underscores")
    if [len(row) for row in task.distances] != list(range(1, len(names) + 1)):
        raise InvalidTask("Expected a lower-triangular matrix: row i holding i + 1 values, the last one 0")
    if any(row[-1] != 0 or any(value < 0 for value in row) for row in task.distances):
        raise InvalidTask("Expected non-negative distances and a zero diagonal")
    matrix = DistanceMatrix(list(names), [list(row) for row in task.distances])
    constructor = DistanceTreeConstructor()
    return constructor.upgma(matrix) if task.method == "upgma" else constructor.nj(matrix)


@per_task
def gold_splits(task: PhylogenyTask) -> set[Split]:
    return splits(gold_tree(task), frozenset(task.taxa))


def parse_newick(text: str) -> Tree | None:
    text = text.strip()
    if not text.endswith(";"):
        text += ";"
    if len(text) > MAX_NEWICK_CHARS or "(" not in text or _NOT_NEWICK.search(text):
        return None
    depth = deepest = 0
    for char in text:
        depth += (char == "(") - (char == ")")
        deepest = max(deepest, depth)
    if deepest > MAX_NEWICK_DEPTH:
        return None
    try:
        trees = list(Phylo.parse(StringIO(text), "newick"))
    except Exception:  # noqa: BLE001 - NewickIO raises several types on malformed text; all mean "not a tree"
        return None
    return trees[0] if len(trees) == 1 else None


class PhylogenyEnv(Environment[PhylogenyTask]):
    name = "phylogeny"
    description = (
        "Constructive: build a tree from a stated distance matrix by UPGMA or neighbour joining (Saitou & Nei) and "
        "write it in Newick with the taxon names as leaves (branch lengths optional, ignored). Compared with "
        "Biopython's DistanceTreeConstructor tree on unrooted topology. Reward: shared bipartitions / (n-3), which is "
        "1 - RF/(2(n-3)) (normalised Robinson-Foulds distance) for a fully resolved tree, 1.0 for the same "
        "topology, no credit for leaving it unresolved; 0.0 when the leaves are not exactly the taxa "
        "(components leaves, shared, rf). "
        "Answer in <answer></answer> or \\boxed{}; no parseable Newick -> no_answer."
    )
    Task = PhylogenyTask
    Options = PhylogenyOptions

    def score(self, task: PhylogenyTask, completion: str) -> Score:
        taxa = frozenset(task.taxa)
        gold = gold_splits(task)
        found = find_answer(completion)
        if isinstance(found, Score):
            return found
        tree = parse_newick(found.text)
        if tree is None:
            return unreadable(found, "a Newick tree")
        leaves = [leaf.name for leaf in tree.get_terminals()]
        details = {"extracted": found.text[:500], "form": found.form}
        if sorted(leaves, key=str) != sorted(taxa):
            return Score(reward=0.0, components={"leaves": 0.0, "rf": 1.0},
                         details={**details, "message": f"Expected each of the leaves {sorted(taxa)} once"})
        answer = splits(tree, taxa)
        distance = len(gold ^ answer)
        resolved = len(taxa) - 3  # bipartitions of a fully resolved unrooted tree
        reward = len(gold & answer) / resolved if resolved else 1.0
        normalised = distance / (2 * resolved) if resolved else 0.0
        return Score(reward=reward, components={"leaves": 1.0, "shared": reward, "rf": normalised},
                     details={**details, "robinson_foulds": distance})

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[PhylogenyTask]:
        options = PhylogenyOptions.model_validate(options.model_dump())
        count = rng.randint(*TAXA_BY_DIFFICULTY[options.difficulty])
        for _ in range(MAX_GENERATION_TRIES):
            taxa = rng.sample(NAMES, count)
            distances = random_tree_distances(rng, taxa)
            flat = [value for row in distances for value in row[:-1]]
            if len(set(flat)) == len(flat):  # no ties, so no answer depends on a tie-break rule
                break
        task = PhylogenyTask(taxa=taxa, distances=distances, method=rng.choice(["upgma", "nj"]))
        rows = "\n".join(f"{name:>9} " + " ".join(f"{value:6.2f}" for value in row)
                         for name, row in zip(taxa, distances))
        method = ("UPGMA (average linkage of cluster distances)" if task.method == "upgma"
                  else "neighbour joining (Saitou & Nei, 1987)")
        prompt = (f"Build a tree of these {count} taxa by {method} from this distance matrix (lower triangle):\n"
                  f"{rows}\nWrite the tree in Newick format with the taxon names as leaf names (branch lengths "
                  "optional; the unrooted topology is compared) in <answer></answer> tags.")
        solution = StringIO()
        Phylo.write(gold_tree(task), solution, "newick")
        return Generated(prompt=prompt, task=task, solution=f"<answer>{solution.getvalue().strip()}</answer>")


def random_tree_distances(rng: random.Random, taxa: list[str]) -> list[list[float]]:
    """Path lengths on a random tree (joining random pairs with random branch lengths), plus a little noise."""
    depth = {name: 0.0 for name in taxa}
    paths = {(a, b): 0.0 for a in taxa for b in taxa}
    groups = [[name] for name in taxa]
    while len(groups) > 1:
        first, second = (groups.pop(rng.randrange(len(groups))) for _ in range(2))
        up_first, up_second = rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0)
        for a in first:
            for b in second:
                paths[(a, b)] = paths[(b, a)] = depth[a] + up_first + depth[b] + up_second
        for name in first:
            depth[name] += up_first
        for name in second:
            depth[name] += up_second
        groups.append(first + second)
    return [[round(paths[(a, b)] + rng.uniform(-0.05, 0.05), 2) if a != b else 0.0 for b in taxa[: i + 1]]
            for i, a in enumerate(taxa)]
