"""Several processes on one machine: torch.distributed with gloo on 127.0.0.1, as torchrun starts them."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import zoo
from zoo.store.checkpoint import load_checkpoint

HERE = Path(__file__).parent
WORKER = HERE / "distributed_worker.py"
TIMEOUT_S = 300  # per command: what tells a hang from a slow start on a machine busy with other tests (seconds alone)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env.update(OMP_NUM_THREADS="1", **extra)
    return env


def ranks(args, world=2, timeout=TIMEOUT_S, **env):
    """Start ``world`` processes of ``python args`` as a launcher would; wait for all; return their results."""
    port = free_port()
    procs = [subprocess.Popen([sys.executable, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=clean_env(RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE=str(world),
                                            MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), **env))
             for r in range(world)]
    try:
        return [(p.wait(timeout=timeout), *p.communicate()) for p in procs]
    finally:
        for p in procs:
            p.kill()


def torchrun(*args, nproc=2, timeout=2 * TIMEOUT_S, **kills):
    """``torchrun --standalone --nproc-per-node N -m zoo ARGS``, the command a user types; with ``kills``
    (KILL_RANK=..., see distributed_worker.py) through the worker that dies as told."""
    program = [str(WORKER), "zoo"] if kills else ["-m", "zoo"]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
               *program, *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env=clean_env(ZOO_PROGRESS_SECONDS="0", **kills))
    return done.returncode, done.stdout, done.stderr


def test_ranks_keep_identical_weights_equal_to_one_process_on_the_concatenated_batch(tmp_path):
    results = ranks([WORKER, "train", tmp_path / "two", 5, 8])
    assert all(code == 0 for code, _, _ in results), results
    rank0, rank1 = (load_file(tmp_path / "two" / f"rank-{r}.safetensors") for r in (0, 1))
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)  # identical, not merely close
    one = subprocess.run([sys.executable, *map(str, [WORKER, "train", tmp_path / "one", 5, 16])], env=clean_env(),
                         capture_output=True, text=True, timeout=TIMEOUT_S)
    assert one.returncode == 0, one.stderr
    single = load_file(tmp_path / "one" / "rank-0.safetensors")
    initial = load_file(tmp_path / "one" / "initial.safetensors")
    assert all(not torch.equal(single[k], initial[k]) for k in single)  # trained: not a comparison of two starts
    for key in single:
        torch.testing.assert_close(rank0[key], single[key], rtol=1e-5, atol=1e-6)
    runs = tmp_path / "two" / "run"
    assert sorted(p.name for p in runs.iterdir() if not p.name.startswith(".")) == ["config.json", "status.json"]


def test_a_failing_rank_ends_every_rank_with_the_error_not_a_hang(tmp_path):
    results = ranks([WORKER, "train", tmp_path, 5, 8], FAIL_AT="2")  # 4 s alone; 60.8 s once, under load
    (code0, _, err0), (code1, _, err1) = results
    assert code1 != 0 and "rank 1 broke on purpose" in err1
    assert code0 != 0  # rank 0 learns of it from its next collective, and stops
    assert not (tmp_path / "rank-0.safetensors").exists()


@pytest.mark.parametrize("mode, ended", [("stop", 3), ("sigterm", 3)])
def test_a_stop_or_a_signal_one_rank_hears_ends_every_rank_at_the_same_step(tmp_path, mode, ended):
    """A callback's trainer.stop (rank 0 runs the callbacks) and a SIGTERM only rank 1 received (during step 2, so
    the run ends after it, with a checkpoint of it): both ranks end at the same step, with the same weights."""
    results = ranks([WORKER, mode, tmp_path, 8, 8])
    assert all(code == 0 for code, _, _ in results), results
    assert [(tmp_path / f"step-{r}.txt").read_text() for r in (0, 1)] == [str(ended)] * 2
    rank0, rank1 = (load_file(tmp_path / f"rank-{r}.safetensors") for r in (0, 1))
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert status == ({"status": "stopped", "step": 3, "error": "enough"} if mode == "stop"
                      else {"status": "interrupted", "step": 3,
                            "error": "KeyboardInterrupt: stopped by a signal to another process"})
    if mode == "sigterm":
        assert load_checkpoint(tmp_path / "run").step == 3


def test_a_minutes_budget_under_torchrun_gives_every_rank_the_same_steps(tmp_path):
    code, out, err = torchrun("train", "dcgan", "--minutes", "0.1", "--batch-size", 8, "--quiet",
                              "--out", tmp_path / "run", *tiny("dcgan"))
    assert code == 0, err  # a rank with another step count would hang the last collective
    record = json.loads((tmp_path / "run" / "config.json").read_text())
    assert record["budget"]["steps"] == record["train"]["steps"] == load_checkpoint(tmp_path / "run").step > 0


def tiny(model: str) -> list[str]:
    sizes = {"dcgan": ["--set", "width=8", "--set", "latent_dim=8"], "wgan-gp": ["--set", "width=8"],
             "cgan": ["--set", "width=8"], "vae": [], "autoencoder": [], "ddpm": ["--set", "width=8"],
             "flow-matching": ["--set", "width=8", "--set", "conditional=true"]}
    return sizes.get(model, [])


def test_torchrun_trains_resumes_exactly_and_the_run_samples_in_one_process(tmp_path):
    common = ["--batch-size", 8, "--sample-every", 2, "--checkpoint-every", 2, "--quiet", *tiny("dcgan")]
    code, out, err = torchrun("train", "dcgan", "--steps", 4, "--out", tmp_path / "straight", *common)
    assert code == 0, err
    assert out.count("trained dcgan for 4 steps") == 1 and "2 processes (cpu)" in out  # rank 0 alone speaks
    code, _, err = torchrun("train", "dcgan", "--steps", 2, "--out", tmp_path / "resumed", *common)
    assert code == 0, err
    code, _, err = torchrun("train", "--resume", tmp_path / "resumed", "--steps", 4)
    assert code == 0, err
    straight, resumed = load_checkpoint(tmp_path / "straight"), load_checkpoint(tmp_path / "resumed")
    assert resumed.step == 4 and straight.tensors.keys() == resumed.tensors.keys()
    for key, tensor in straight.tensors.items():
        if not key.startswith("rng."):
            assert torch.equal(tensor, resumed.tensors[key]), key
    record = (tmp_path / "resumed" / "config.json").read_text()
    assert '"size": 2' in record and (tmp_path / "resumed" / "metrics.jsonl").exists()
    steps = [line for line in (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()]
    assert len(steps) == len(set(steps))  # one writer: no record twice

    from zoo.cli.main import main  # one process reads what the two wrote

    for args in (["sample", tmp_path / "straight", "-n", "8", "--out", tmp_path / "s.png"],
                 ["eval", tmp_path / "straight", "-n", "20"]):
        with pytest.raises(SystemExit) as exit_info:
            main([str(a) for a in args])
        assert exit_info.value.code in (0, None)
    assert (tmp_path / "s.png").exists()


def test_resume_with_another_number_of_processes_is_refused(tmp_path, zoo_cli):
    code, _, err = torchrun("train", "dcgan", "--steps", 2, "--batch-size", 8, "--quiet", "--out", tmp_path / "run", *tiny("dcgan"))
    assert code == 0, err
    code, _, err = zoo_cli("train", "--resume", tmp_path / "run", "--steps", 4)
    assert code == 1 and "was trained by 2 processes, this is 1" in err and "--nproc-per-node 2" in err


def test_a_refusal_to_resume_under_torchrun_is_printed_once_not_once_per_rank(tmp_path, zoo_cli):
    code, _, err = zoo_cli("train", "dcgan", "--steps", 2, "--batch-size", 8, "--quiet", "--out", tmp_path / "run", *tiny("dcgan"))
    assert code == 0, err
    code, _, err = torchrun("train", "--resume", tmp_path / "run", "--steps", 4)
    assert code != 0
    assert err.count("was trained by 1 process, this is 2") == 1, err


def test_an_error_only_one_rank_meets_is_said_by_that_rank(tmp_path):
    script = tmp_path / "one_rank.py"  # rank 1 resumes nothing; rank 0 starts a run and waits for rank 1 to join
    script.write_text("import os\nfrom zoo.cli.main import main\n"
                      "main(['train', '--resume', os.environ['NOTHING']] if os.environ['RANK'] == '1' else "
                      "['train', 'dcgan', '--quiet', '--out', os.environ['RUN'], '--set', 'width=8'])\n")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", str(script)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=2 * TIMEOUT_S,
                          env=clean_env(NOTHING=str(tmp_path / "nothing"), RUN=str(tmp_path / "run")))
    assert done.returncode != 0
    assert f"Error: rank 1: --resume {tmp_path / 'nothing'}: no such folder" in done.stderr, done.stderr


KILLABLE = ["dcgan", "--steps", 8, "--batch-size", 8, "--checkpoint-every", 2, "--sample-every", 0, "--quiet",
            *tiny("dcgan")]


@pytest.fixture(scope="module")
def straight_two_processes(tmp_path_factory):
    """An uninterrupted 2-process run of KILLABLE, to compare the killed and resumed ones with."""
    out = tmp_path_factory.mktemp("straight") / "run"
    code, _, err = torchrun("train", *KILLABLE, "--out", out)
    assert code == 0, err
    return load_checkpoint(out)


def assert_resumes_to(straight, out):
    assert load_checkpoint(out).step < 8  # killed before the end
    code, _, err = torchrun("train", "--resume", out)
    assert code == 0, err
    resumed = load_checkpoint(out)
    assert resumed.step == 8 and straight.tensors.keys() == resumed.tensors.keys()
    for key, tensor in straight.tensors.items():
        if not key.startswith("rng."):
            assert torch.equal(tensor, resumed.tensors[key]), key
    assert not list(out.glob(".*.tmp"))  # what a killed write left is gone


@pytest.mark.slow
@pytest.mark.parametrize("rank", ["0", "1"])
def test_kill_9_of_either_rank_then_resume_gives_the_straight_runs_weights(straight_two_processes, tmp_path, rank):
    code, _, err = torchrun("train", *KILLABLE, "--out", tmp_path / "run", KILL_RANK=rank, KILL_AT_STEP="5")
    assert code != 0 and "(SIGKILL)" in err, err
    assert_resumes_to(straight_two_processes, tmp_path / "run")


@pytest.mark.slow
def test_kill_inside_the_checkpoint_write_then_resume_gives_the_straight_runs_weights(straight_two_processes, tmp_path):
    code, _, err = torchrun("train", *KILLABLE, "--out", tmp_path / "run", KILL_IN_CHECKPOINT="3")
    assert code != 0 and "(SIGKILL)" in err, err
    assert list((tmp_path / "run").glob(".checkpoint.safetensors.*.tmp"))  # killed between the write and the rename
    assert load_checkpoint(tmp_path / "run").step == 4  # the one before stands whole
    assert_resumes_to(straight_two_processes, tmp_path / "run")


@pytest.mark.slow
@pytest.mark.parametrize("model", ["wgan-gp", "cgan", "vae", "autoencoder", "ddpm", "flow-matching"])
def test_every_architecture_trains_unchanged_on_two_processes(model, tmp_path):
    if model not in zoo.list_models():
        pytest.skip(f"{model} is not installed")
    code, out, err = torchrun("train", model, "--steps", 3, "--batch-size", 8, "--quiet", "--out", tmp_path / model,
                              "--sample-every", 2, *tiny(model))
    assert code == 0, err
    assert load_checkpoint(tmp_path / model).step == 3


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA devices")
def test_torchrun_on_two_gpus_with_nccl_and_sync_batchnorm(tmp_path):
    code, _, err = torchrun("train", "dcgan", "--steps", 4, "--batch-size", 8, "--quiet", "--device", "cuda",
                            "--batchnorm", "sync", "--precision", "bf16", "--out", tmp_path / "run", *tiny("dcgan"))
    assert code == 0, err
    assert '"backend": "nccl"' in (tmp_path / "run" / "config.json").read_text()


def test_sync_batchnorm_on_cpu_processes_is_refused_in_one_line(tmp_path):
    code, _, err = torchrun("train", "dcgan", "--steps", 2, "--batch-size", 8, "--quiet", "--device", "cpu",
                            "--batchnorm", "sync", "--out", tmp_path / "run", *tiny("dcgan"))
    assert code != 0
    assert err.count("--batchnorm sync needs CUDA devices") == 1, err  # every rank met it: one line says it
    assert "trainer.py" not in err and "File \"" + str(HERE.parent / "core") not in err  # torchrun's own report aside, no traceback of ours
