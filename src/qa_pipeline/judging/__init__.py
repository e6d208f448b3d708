"""Scoring calls against checklists: rules (phrases, timings, N/A gates) and the LLM judge.

`judge.Judge` decides every item of a checklist for one call: rule items by `rules`, the rest by a backend
(`backends`, `llama_backend`) in the items mode (`item_prompt`, `thresholds`) or the scorecard mode
(`prompt`, `confidence`, `evidence`); `score_batch` runs it over many calls with a cache and the store.
`options.make_judge` builds the judge from one `JudgeOptions`, as every command does.
"""
