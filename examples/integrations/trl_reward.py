"""A TRL-style reward function (GRPOTrainer(reward_funcs=[srm_reward])) backed by `srm serve`.

TRL calls reward_funcs with the batch's prompts and completions plus every other dataset column
as keyword arguments, and expects one float per completion. The batch goes to srm in one
request (/v1/score), so LLM-judged skills fan out inside srm.
"""
from srm_client import post_json


def _text(x):
    # conversational datasets give a list of messages; the reward reads the last content
    if isinstance(x, list) and x and isinstance(x[-1], dict):
        return x[-1].get("content", "")
    return x


def srm_reward(prompts, completions, **kwargs):
    records = []
    for i, (prompt, completion) in enumerate(zip(prompts, completions)):
        rec = {"id": i, "prompt": _text(prompt), "response": _text(completion)}
        for key, column in kwargs.items():
            if isinstance(column, list) and len(column) == len(completions):
                rec[key] = column[i]
        records.append(rec)
    rows = post_json("/v1/score", {"records": records})["rows"]
    return [float(r["score"]) if r["status"] == "ok" else 0.0 for r in rows]
