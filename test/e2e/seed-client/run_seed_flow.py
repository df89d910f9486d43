"""
Drives BFL's own example client (bfl_finetune.py, unmodified) against a fluxtune server:
request_finetuning -> finetune_progress until Ready -> finetune_list / finetune_details ->
finetune_inference -> get_inference until Ready -> download the sample -> finetune_delete.

The only change is the one a user makes: the base URL. The script's source is loaded with
"https://api.us1.bfl.ai" replaced by the server's URL; nothing else is touched.

usage: BFL_API_KEY=<key> python3 run_seed_flow.py <base_url> <dataset.zip> <sample_out>
Prints one line per poll, then a JSON summary as the last line. Exits non-zero on any failure.
"""

import json
import os
import sys
import time
import types

import requests

BFL_BASE = "https://api.us1.bfl.ai"
HERE = os.path.dirname(os.path.abspath(__file__))


def load_client(base_url):
    with open(os.path.join(HERE, "bfl_finetune.py"), encoding="utf-8") as f:
        source = f.read()
    assert BFL_BASE in source
    module = types.ModuleType("bfl_finetune")
    module.__file__ = os.path.join(HERE, "bfl_finetune.py")
    exec(compile(source.replace(BFL_BASE, base_url.rstrip("/")), module.__file__, "exec"), module.__dict__)
    return module


def poll(fn, task_id, timeout_s, label):
    deadline = time.time() + timeout_s
    seen = []
    while True:
        r = fn(task_id)
        print(f"{label}: status={r.get('status')} progress={r.get('progress')}", flush=True)
        if r.get("status") not in ("Pending", "Ready"):
            raise RuntimeError(f"{label} failed: {json.dumps(r)}")
        seen.append(r.get("progress"))
        if r["status"] == "Ready":
            return r, seen
        if time.time() > deadline:
            raise TimeoutError(f"{label} not Ready within {timeout_s} s: {json.dumps(r)}")
        time.sleep(0.5)


def main():
    base_url, zip_path, sample_out = sys.argv[1:4]
    bfl = load_client(base_url)

    submitted = bfl.request_finetuning(
        zip_path,
        "seed client e2e",
        mode="character",
        iterations=100,
        learning_rate=0.0001,
        captioning=False,
        priority="speed",
        finetune_type="lora",
        lora_rank=16,
    )
    finetune_id = submitted["finetune_id"]
    print(f"request_finetuning: {json.dumps(submitted)}", flush=True)

    trained, progress = poll(bfl.finetune_progress, finetune_id, 600, "finetune_progress")
    listed = bfl.finetune_list()
    details = bfl.finetune_details(finetune_id)["finetune_details"]

    # The script's default endpoint and strength (flux-pro-1.1-ultra-finetuned, 1.2).
    inference = bfl.finetune_inference(finetune_id, prompt="image of a TOK", seed=7, output_format="png")
    print(f"finetune_inference: {json.dumps(inference)}", flush=True)
    generated, _ = poll(bfl.get_inference, inference["id"], 600, "get_inference")

    sample = requests.get(generated["result"]["sample"])
    sample.raise_for_status()
    with open(sample_out, "wb") as f:
        f.write(sample.content)

    deleted = bfl.finetune_delete(finetune_id)
    try:
        bfl.finetune_progress(finetune_id)
        gone = False
    except requests.exceptions.RequestException as e:
        gone = "404" in str(e)

    print(
        json.dumps(
            {
                "finetune_id": finetune_id,
                "finetune_result": trained,
                "progress_seen": [p for p in progress if p is not None],
                "listed": finetune_id in listed["finetunes"],
                "details": details,
                "inference_id": inference["id"],
                "polling_url": inference.get("polling_url"),
                "inference_result": generated["result"],
                "sample_bytes": len(sample.content),
                "sample_content_type": sample.headers.get("content-type"),
                "deleted": deleted,
                "gone_after_delete": gone,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
