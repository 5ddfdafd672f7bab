"""The policies the trainer can train: a small built-in character-level GPT (no download) or a Hugging Face LM.

Both are wrapped in `Policy`, which is all the trainer sees: encode/decode text, token ids of end and padding, and
`logits(input_ids, attention_mask)` for left-padded batches.
"""

from __future__ import annotations

import string
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F


class CharTokenizer:
    """One token per printable ASCII character, plus padding and end-of-text. Other characters are refused."""

    PAD, EOS = 0, 1

    def __init__(self) -> None:
        self.alphabet = string.printable[:95] + "\n"
        self.index = {char: i + 2 for i, char in enumerate(self.alphabet)}
        self.vocab_size = len(self.alphabet) + 2

    def encode(self, text: str) -> list[int]:
        try:
            return [self.index[char] for char in text]
        except KeyError as exc:
            raise ValueError(f"Expected printable ASCII for the built-in model, got {exc.args[0]!r}") from exc

    def decode(self, ids: list[int]) -> str:
        return "".join(self.alphabet[i - 2] for i in ids if i >= 2)


@dataclass(frozen=True)
class TinyGPTConfig:
    vocab_size: int = 98
    block_size: int = 64
    """Longest prompt + completion, in characters."""
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 128


class SelfAttention(nn.Module):
    """Causal multi-head attention; with a `KVCache`, each call appends its keys and values to the cache."""

    def __init__(self, config: TinyGPTConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.proj = nn.Linear(config.n_embd, config.n_embd)

    def forward(self, x: Tensor, allowed: Tensor, cache: list[Tensor] | None) -> Tensor:
        n, t, d = x.shape
        q, k, v = (part.view(n, t, self.n_head, d // self.n_head).transpose(1, 2)
                   for part in self.qkv(x).split(d, dim=2))  # [N, heads, T, head size]
        if cache is not None:
            if cache:
                k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
            cache[:] = [k, v]
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
        return self.proj(y.transpose(1, 2).reshape(n, t, d))


class Block(nn.Module):
    def __init__(self, config: TinyGPTConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.n_embd)
        self.attn = SelfAttention(config)
        self.ln2 = nn.LayerNorm(config.n_embd)
        self.mlp = nn.Sequential(nn.Linear(config.n_embd, 4 * config.n_embd), nn.GELU(),
                                 nn.Linear(4 * config.n_embd, config.n_embd))

    def forward(self, x: Tensor, allowed: Tensor, cache: list[Tensor] | None) -> Tensor:
        x = x + self.attn(self.ln1(x), allowed, cache)
        return x + self.mlp(self.ln2(x))


KVCache = list[list[Tensor]]
"""Per layer, [keys, values] of the positions seen so far ([N, heads, T, head size] each)."""


class TinyGPT(nn.Module):
    """A nanoGPT-style decoder (pre-norm blocks, learned positions, tied embeddings), randomly initialised."""

    def __init__(self, config: TinyGPTConfig) -> None:
        super().__init__()
        self.config = config
        self.tok = nn.Embedding(config.vocab_size, config.n_embd)
        self.pos = nn.Embedding(config.block_size, config.n_embd)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.head.weight = self.tok.weight
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)

    def forward(self, input_ids: Tensor, attention_mask: Tensor, cache: KVCache | None = None) -> Tensor:
        """Logits [N, Tq, V] of `input_ids` [N, Tq], the last Tq of the `attention_mask` [N, T] positions.

        Left padding has mask 0; positions count real tokens only. With `cache`, earlier positions' keys and values
        are read from it (and this call's are added), so sampling costs one position per new token.
        """
        n, tq = input_ids.shape
        t = attention_mask.shape[1]
        if t > self.config.block_size:
            raise ValueError(f"Expected at most {self.config.block_size} tokens, got {t}: raise block_size")
        positions = (attention_mask.cumsum(dim=1) - 1).clamp(min=0)[:, t - tq :]
        x = self.tok(input_ids) + self.pos(positions)
        query_at = torch.arange(t - tq, t, device=input_ids.device)
        key_at = torch.arange(t, device=input_ids.device)
        allowed = (key_at.unsqueeze(0) <= query_at.unsqueeze(1)).unsqueeze(0) & attention_mask.bool().unsqueeze(1)
        allowed = allowed | (key_at.unsqueeze(0) == query_at.unsqueeze(1)).unsqueeze(0)  # padding sees itself
        if cache is not None and not cache:
            cache.extend([] for _ in self.blocks)
        for index, block in enumerate(self.blocks):
            x = block(x, allowed.unsqueeze(1), cache[index] if cache is not None else None)
        return self.head(self.ln_f(x))


class Policy:
    """A causal LM and its tokenizer, as the trainer uses them."""

    def __init__(self, model: nn.Module, tokenizer: Any, kind: str, eos_id: int, pad_id: int,
                 spec: dict[str, Any]) -> None:
        self.model, self.tokenizer, self.kind = model, tokenizer, kind
        self.eos_id, self.pad_id = eos_id, pad_id
        self.spec = spec
        """Enough to rebuild the policy's architecture from a checkpoint."""

    def encode(self, text: str) -> list[int]:
        if self.kind == "builtin":
            return self.tokenizer.encode(text)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def decode(self, ids: list[int]) -> str:
        if self.kind == "builtin":
            return self.tokenizer.decode(ids)
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def next_token_logits(self, input_ids: Tensor, attention_mask: Tensor, state: Any) -> tuple[Tensor, Any]:
        """Logits [N, V] of the token after `input_ids`, reusing `state` (a KV cache; None on the first call).

        After the first call only the last column of `input_ids` is new; the cache holds the rest.
        """
        new = input_ids if state is None else input_ids[:, -1:]
        if self.kind == "builtin":
            state = [] if state is None else state
            return self.model(new, attention_mask, cache=state)[:, -1], state
        positions = (attention_mask.cumsum(dim=1) - 1).clamp(min=0)[:, -new.shape[1]:]
        output = self.model(input_ids=new, attention_mask=attention_mask, position_ids=positions,
                            past_key_values=state, use_cache=True)
        return output.logits[:, -1], output.past_key_values

    def logits(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        if self.kind == "builtin":
            return self.model(input_ids, attention_mask)
        positions = (attention_mask.cumsum(dim=1) - 1).clamp(min=0)
        return self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=positions).logits


def builtin_policy(config: TinyGPTConfig | None = None, seed: int = 0) -> Policy:
    tokenizer = CharTokenizer()
    config = config or TinyGPTConfig(vocab_size=tokenizer.vocab_size)
    if config.vocab_size != tokenizer.vocab_size:
        raise ValueError(f"Expected vocab_size {tokenizer.vocab_size} for the character tokenizer, got "
                         f"{config.vocab_size}")
    torch.manual_seed(seed)
    return Policy(TinyGPT(config), tokenizer, "builtin", CharTokenizer.EOS, CharTokenizer.PAD,
                  {"kind": "builtin", "config": asdict(config)})


def hf_policy(path: str, dtype: torch.dtype = torch.float32) -> Policy:
    """A Hugging Face causal LM from a local folder (nothing is downloaded: `local_files_only`)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=dtype)
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ValueError(f"Expected the tokenizer at {path} to define an end-of-sequence token, got none")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    return Policy(model, tokenizer, "hf", eos, pad, {"kind": "hf", "path": path})


def load_policy(spec: dict[str, Any], seed: int = 0) -> Policy:
    if spec["kind"] == "builtin":
        return builtin_policy(TinyGPTConfig(**spec["config"]), seed)
    return hf_policy(spec["path"])


def sequence_logprobs(policy: Policy, input_ids: Tensor, attention_mask: Tensor, prompt_len: int,
                      temperature: float = 1.0) -> Tensor:
    """Log-probabilities of the completion tokens (positions >= prompt_len) under `policy`: [N, T - prompt_len].

    Logits are divided by the sampling temperature, so that the ratio compares the distributions sampled from.
    """
    logits = policy.logits(input_ids, attention_mask)[:, prompt_len - 1 : -1].float() / temperature
    targets = input_ids[:, prompt_len:]
    return torch.gather(F.log_softmax(logits, dim=-1), 2, targets.unsqueeze(-1)).squeeze(-1)
