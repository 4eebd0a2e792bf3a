"""Reference for Colony's learning benchmarks: Stable-Baselines3 trains one agent on one Gymnasium
environment with rl-baselines3-zoo's hyperparameters, then a deterministic evaluation runs.

    python sb3_train.py --algo sac --env HalfCheetah-v5 --frames 200000 --seed 1 --eval-episodes 10

The hyperparameters below are the zoo's for each case (hyperparams/<algo>.yml), the same values the
Colony side of the benchmark sets, so both train the same way for the same frames and seed. The
wall-clock counts `model.learn` only (environment stepping and updates; not construction or evaluation).
Evaluation: `--eval-episodes` episodes of one fresh environment, reset with seeds 10000 + seed + i,
actions from `predict(deterministic=True)` (Colony's evaluation seeds its episodes from 10000 + seed).

Prints one JSON object: mean_return, std_return, train_seconds, train_cpu_seconds (CPU time of this
process, all its threads, while learning: less disturbed by other work on the machine than wall-clock),
frames_per_second, the versions, and notes for what failed.
"""

from __future__ import annotations

import argparse
import json
import time

# rl-baselines3-zoo hyperparameters, keyed by (algorithm, environment id). Values not listed are SB3's
# defaults (e.g. SAC: lr 3e-4, buffer 1e6, batch 256, tau 0.005, gamma 0.99, train_freq 1,
# gradient_steps 1, ent_coef "auto", net [256, 256]).
ZOO = {
    # sac.yml, HalfCheetah (&mujoco-defaults): SB3 defaults with learning_starts 10000.
    ("sac", "HalfCheetah-v5"): dict(n_envs=1, learning_starts=10_000),
    # ppo.yml, LunarLander: SB3's MlpPolicy (64-64 tanh, separate policy and value networks), lr 3e-4 constant.
    ("ppo", "LunarLander-v3"): dict(
        n_envs=16, n_steps=1024, batch_size=64, gae_lambda=0.98, gamma=0.999, n_epochs=4, ent_coef=0.01),
    # ppo.yml, CartPole-v1 (the defaults of Colony's ppo); lin_ schedules decay to 0 over the run.
    ("ppo", "CartPole-v1"): dict(
        n_envs=8, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20, ent_coef=0.0,
        learning_rate="lin_0.001", clip_range="lin_0.2"),
    # dqn.yml, CartPole-v1 as of the zoo version Colony's dqn defaults follow.
    ("dqn", "CartPole-v1"): dict(
        n_envs=1, learning_rate=2.3e-3, batch_size=64, buffer_size=100_000, learning_starts=1000, gamma=0.99,
        target_update_interval=10, train_freq=256, gradient_steps=128, exploration_fraction=0.16,
        exploration_final_eps=0.04, policy_kwargs=dict(net_arch=[256, 256])),
}


def schedule(value):
    """`lin_x`: x decaying linearly to 0 over training (SB3 passes the remaining progress 1 → 0)."""
    if isinstance(value, str) and value.startswith("lin_"):
        start = float(value[4:])
        return lambda progress_remaining: progress_remaining * start
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", required=True, choices=sorted({algo for algo, _ in ZOO}))
    parser.add_argument("--env", required=True, help="Gymnasium id")
    parser.add_argument("--frames", type=int, required=True, help="environment frames (total_timesteps)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    arguments = parser.parse_args()
    results: dict[str, object] = {"notes": []}
    try:
        import gymnasium
        import stable_baselines3
        import torch
        from stable_baselines3.common.env_util import make_vec_env

        results.update(sb3_version=stable_baselines3.__version__, torch_version=torch.__version__,
                       gymnasium_version=gymnasium.__version__)
        if arguments.threads > 0:
            torch.set_num_threads(arguments.threads)
        key = (arguments.algo, arguments.env)
        if key not in ZOO:
            raise ValueError(f"no zoo hyperparameters here for {arguments.algo} on {arguments.env}; known: {sorted(ZOO)}")
        hyperparameters = dict(ZOO[key])
        n_envs = hyperparameters.pop("n_envs")
        for name in ("learning_rate", "clip_range"):
            if name in hyperparameters:
                hyperparameters[name] = schedule(hyperparameters[name])
        algorithm = getattr(stable_baselines3, arguments.algo.upper())
        env = make_vec_env(arguments.env, n_envs=n_envs, seed=arguments.seed)
        model = algorithm("MlpPolicy", env, seed=arguments.seed, device="cpu", verbose=0, **hyperparameters)
        start, cpu = time.perf_counter(), time.process_time()
        model.learn(total_timesteps=arguments.frames)
        seconds = time.perf_counter() - start
        results.update(train_seconds=seconds, train_cpu_seconds=time.process_time() - cpu, frames=float(model.num_timesteps),
                       frames_per_second=model.num_timesteps / seconds, torch_threads=float(torch.get_num_threads()))

        evaluation = gymnasium.make(arguments.env)
        returns = []
        for episode in range(arguments.eval_episodes):
            observation, _ = evaluation.reset(seed=10_000 + arguments.seed + episode)
            total, done = 0.0, False
            while not done:
                action, _ = model.predict(observation, deterministic=True)
                observation, reward, terminated, truncated, _ = evaluation.step(action)
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
        mean = sum(returns) / len(returns)
        results.update(mean_return=mean, std_return=(sum((r - mean) ** 2 for r in returns) / len(returns)) ** 0.5)
    except Exception as error:  # noqa: BLE001 - the table says why the reference is missing
        results["notes"].append(f"SB3 {arguments.algo} on {arguments.env} failed: {type(error).__name__}: {error}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
