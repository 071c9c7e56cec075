"""What OpenRLHF sends to a remote reward model, and how to point it at `srm serve`.

OpenRLHF (train_ppo_ray with --remote_rm_url http://HOST:8000/get_reward) POSTs
{"query": [...], "prompts": [...], "labels": [...]} — each query is prompt + response — and reads
"rewards" from the reply (plus optional "scores" and "extra_logs"). srm strips the prompt from
each query when it is a prefix, so the skill sees prompt, response and label. This script sends
exactly that request shape; run it against a server to check a deployment:

    srm serve skills/gsm8k.lua --map answer=label &
    python3 examples/integrations/openrlhf_client.py
"""
import json
import sys

from srm_client import post_json


def remote_rewards(queries, prompts, labels, url=None):
    reply = post_json("/get_reward", {"query": queries, "prompts": prompts, "labels": labels}, url)
    return reply["rewards"], reply.get("extra_logs", {})


if __name__ == "__main__":
    prompts = ["Natalia sold 48 clips in April and half as many in May. How many in total? ",
               "What is 6 times 7? "]
    responses = ["She sold 48 + 24 = 72 clips.\n#### 72", "6 * 7 = 41\n#### 41"]
    labels = ["72", "42"]
    rewards, logs = remote_rewards([p + r for p, r in zip(prompts, responses)], prompts, labels,
                                   sys.argv[1] if len(sys.argv) > 1 else None)
    print(json.dumps({"rewards": rewards, "extra_logs": logs}))
