"""What the experiments share: train one named network for one seed and setting, many in parallel.

A network is named ``kind-depth`` or ``kind-depth-shortcut``: ``plain-56``, ``resnet-20``,
``resnet-20-projection``, ``preact-56`` (``resnet_book.trainer.networks``, shared with the
training tool). Runs go to worker processes with one TensorFlow thread
each: these small networks keep one core busy, and two single-threaded runs side by side finish
sooner than two in turn. Every run returns a record in the format of ``resnet_book.results``.

An interrupted experiment resumes: each finished run is appended to a journal,
``results/.journal/NAME.jsonl``, and the next start of the same command, with the same code on
the same kind of processor, trains only what the journal lacks. The journal goes once the
results file is written.
"""

import argparse
import functools
import hashlib
import json
import multiprocessing
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
RECIPE = {"batch_size": 64, "learning_rate": 0.1, "weight_decay": 1e-4, "warmup": 0.05}
DATA = "scikit-learn digits, 16x16, 1,437 train / 360 test"


def build(network, input_shape):
    """The Keras model a network name stands for (the training tool's naming rule)."""
    from resnet_book.trainer import networks

    return networks.build_network(network, input_shape)


def run(network, seed, learning_rate, num_epochs, weights=None):
    """Train one network on the 16x16 digits; return its run record.

    With ``weights``, a file name, the trained weights are stored there too
    (``resnet_book.results.save_weights``), and the final figures are measured
    with the stored weights.
    """
    from resnet_book import data, results, set_seed, training

    train_data, test_data = data.digits_images(size=16)
    set_seed(seed)
    model = build(network, train_data[0].shape[1:])
    recipe = {**RECIPE, "learning_rate": learning_rate}
    start = time.perf_counter()
    history = training.train(model, train_data, test_data, num_epochs, verbose=False, **recipe)
    seconds = time.perf_counter() - start
    if weights:
        results.save_weights(model, weights)
        results.load_weights(model, weights)
    train_loss, train_accuracy = model.evaluate(*train_data, verbose=0)
    _, test_accuracy = model.evaluate(*test_data, verbose=0)
    final = {
        "train_loss": train_loss,
        "train_error": 1 - train_accuracy,
        "test_error": 1 - test_accuracy,
    }
    record = results.run_record(network, seed, learning_rate, num_epochs, history, final, seconds)
    print(
        f"{network} seed {seed} rate {learning_rate} {num_epochs} epochs: train loss "
        f"{record['train_loss']:.4f}, test error {record['test_error']:.3f}, {seconds:.0f} s",
        flush=True,
    )
    return record


def journal_path():
    """Where this experiment's finished runs wait for its results file: see the module's note."""
    return ROOT / "results" / ".journal" / f"{pathlib.Path(sys.argv[0]).stem}.jsonl"


def fingerprint(jobs):
    """What a journal's runs depend on: the code, the command, the processor, the threads."""
    digest = hashlib.sha256()
    for path in sorted([*(ROOT / "src").rglob("*.py"), *(ROOT / "experiments").glob("*.py")]):
        digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    from resnet_book.results import processor_name

    setting = [sys.argv, processor_name(), jobs > 1]
    digest.update(json.dumps(setting).encode())
    return digest.hexdigest()


def _journal(jobs):
    """The finished runs of an earlier start of this command, by ``repr`` of their arguments."""
    path, stamp = journal_path(), fingerprint(jobs)
    lines = path.read_text().splitlines() if path.exists() else []
    if not lines or json.loads(lines[0]) != {"fingerprint": stamp}:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"fingerprint": stamp}) + "\n")
        return {}
    done = [json.loads(line) for line in lines[1:]]
    return {entry["arguments"]: entry["result"] for entry in done}


def _call(task, arguments):
    return arguments, task(*arguments)


def run_all(plan, jobs, task=None):
    """Call ``task`` (default :func:`run`) on each argument tuple of ``plan``; results in order.

    With ``jobs`` above 1, the calls go to that many single-threaded processes. Calls that
    an interrupted start of the same command finished are not made again (the journal).
    """
    if jobs > 1:
        os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    done = _journal(jobs)
    todo = [arguments for arguments in plan if repr(arguments) not in done]
    if len(todo) < len(plan):
        print(f"{len(plan) - len(todo)} runs from the journal {journal_path()}", flush=True)
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        finished = pool.imap_unordered(functools.partial(_call, task or run), todo)
        for arguments, result in finished:
            done[repr(arguments)] = result
            entry = {"arguments": repr(arguments), "result": result}
            with journal_path().open("a") as journal:
                journal.write(json.dumps(entry) + "\n")
    return [done[repr(arguments)] for arguments in plan]


def write_record(script, record, start, out=None):
    """Write results/NAME.json for ``experiments/NAME.py``, with how it was made.

    ``record`` follows the command, the date, the machine and the wall time
    since ``start`` (a ``time.perf_counter`` reading): ``results.save_record``.
    ``out``, a file name in results/, replaces NAME.json.
    """
    from resnet_book import results

    name = pathlib.Path(script).stem
    path = ROOT / "results" / (out or f"{name}.json")
    command = " ".join([f"python experiments/{name}.py", *sys.argv[1:]])
    results.save_record(path, record, command=command, wall_seconds=time.perf_counter() - start)
    journal_path().unlink(missing_ok=True)
    print(f"wrote {path} in {time.perf_counter() - start:.0f} s")


SEEDS = ("--seeds", {"type": int, "nargs": "+", "default": [0, 1, 2]})


def command_line(description, *options, minimums=None):
    """Parse an experiment's options, each ``(flag, add_argument keywords)``, and ``--jobs``.

    ``minimums`` maps option names to their smallest accepted values; ``--jobs``
    must be at least 1 in any case. A value below its minimum is a usage error.
    """
    parser = argparse.ArgumentParser(description=description)
    for flag, keywords in options:
        parser.add_argument(flag, **keywords)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    for name, low in {"jobs": 1, **(minimums or {})}.items():
        if getattr(args, name) < low:
            parser.error(f"--{name} must be at least {low}. Received: {getattr(args, name)}")
    return args


def reusable(path, planned):
    """The runs of the results file ``path`` that ``planned`` still contains, by setting.

    ``planned`` holds (network, seed, learning rate, epochs) tuples. The file must have been
    made with this module's data and recipe (``DATA``, ``RECIPE`` but for its default rate):
    training is deterministic on one machine, so a stored run stands for a new one. A reused
    run gains ``reused_from``, the date and processor of the file it came from, unless it has
    one already.

    Raises:
        ValueError: If the file's data or recipe differs from this module's.
    """
    import json

    stored = json.loads(pathlib.Path(path).read_text())
    recipe = {key: stored["recipe"].get(key) for key in RECIPE if key != "learning_rate"}
    expected = {key: value for key, value in RECIPE.items() if key != "learning_rate"}
    if stored["data"] != DATA or recipe != expected:
        raise ValueError(
            f"{path} was made with another recipe or data: cannot reuse its runs. "
            f"Received: data={stored['data']!r}, recipe={recipe}; expected data={DATA!r}, "
            f"recipe={expected}"
        )
    origin = f"{stored['date']} on {stored['machine']['processor']}"
    wanted = set(planned)
    found = {}
    for record in stored["runs"]:
        key = (record["network"], record["seed"], record["learning_rate"], record["num_epochs"])
        if key in wanted:
            found[key] = {**record, "reused_from": record.get("reused_from", origin)}
    return found


def main(script, description, plan):
    """The command line of an experiment: run ``plan(seeds, epochs)`` and write results/NAME.json.

    ``script`` is the experiment's file name, ``experiments/NAME.py``; the results file, the
    command stored in it and the usage line follow from it. With ``--reuse FILE``, the runs
    of FILE (an earlier results file of the same recipe, see :func:`reusable`) that the plan
    still contains are kept, and only the missing ones are trained; the wall time stored is
    then that of the new runs alone.
    """
    name = pathlib.Path(script).stem
    args = command_line(
        description,
        SEEDS,
        ("--epochs", {"type": int, "default": 20}),
        ("--out", {"type": pathlib.Path, "default": ROOT / "results" / f"{name}.json"}),
        ("--reuse", {"type": pathlib.Path, "metavar": "FILE", "help": "keep FILE's planned runs"}),
    )
    start = time.perf_counter()
    planned = plan(args.seeds, args.epochs)
    kept = reusable(args.reuse, planned) if args.reuse else {}
    missing = [setting for setting in planned if setting not in kept]
    print(f"{len(kept)} runs reused, {len(missing)} to train", flush=True)
    trained = dict(zip(missing, run_all(missing, args.jobs), strict=True)) if missing else {}
    runs = [kept[setting] if setting in kept else trained[setting] for setting in planned]
    from resnet_book import results

    results.save(
        args.out,
        runs,
        command=" ".join([f"python experiments/{name}.py", *sys.argv[1:]]),
        data=DATA,
        recipe={"num_epochs": args.epochs, **RECIPE, "jobs": args.jobs},
        wall_seconds=time.perf_counter() - start,
    )
    journal_path().unlink(missing_ok=True)
    print(f"wrote {args.out} in {time.perf_counter() - start:.0f} s")
