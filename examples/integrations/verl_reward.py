"""verl custom reward function backed by `srm serve`.

verl calls compute_score(data_source, solution_str, ground_truth, extra_info) once per sample
(custom_reward_function.path=examples/integrations/verl_reward.py,
custom_reward_function.name=compute_score). It returns a dict whose "score" verl uses as the
reward; the other keys are logged. Set SRM_URL to the server (default http://127.0.0.1:8000).
"""
from srm_client import post_json


def compute_score(data_source, solution_str, ground_truth, extra_info=None):
    extra_info = extra_info or {}
    reply = post_json(
        "/reward",
        {
            "prompt": extra_info.get("question", ""),
            "response": solution_str,
            "label": ground_truth,
            "data_source": data_source,
        },
    )
    # A failed row (judge_failed, timeout, ...) scores 0 for the trainer; its status and reason
    # are kept in the logged fields instead of disappearing.
    return {"score": float(reply["reward"]), "srm_status": reply["status"],
            "srm_reason": reply.get("reason") or ""}
