"""Reference for Colony's learning benchmarks: Stable-Baselines3 trains one agent on one Gymnasium
environment with rl-baselines3-zoo's hyperparameters, then a deterministic evaluation runs.

    python sb3_train.py --algo sac --env HalfCheetah-v5 --frames 200000 --seed 1 --eval-episodes 10
    python sb3_train.py --algo dqn --env Acrobot-v1 --frames 200000 --colony-config '{"learning_rate": ...}'

The hyperparameters are either the zoo's for a case (ZOO below, hyperparams/<algo>.yml, the same values
the Colony side of the benchmark sets) or, with --colony-config, the Colony side's whole resolved
configuration translated key by key (`colony_hyperparameters`: schedules laid out over the same frames,
the same networks and activations), so both train the same way for the same frames and seed. The
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


SB3_ALGORITHMS = ("a2c", "ddpg", "dqn", "ppo", "sac", "td3")


def colony_hyperparameters(algo: str, config: dict, frames: int) -> dict:
    """SB3 keyword arguments equal to a Colony configuration (the keys `colony config AGENT` prints).
    Schedules: Colony lays learning-rate annealing and ε decay out over its `total_frames`, SB3 over the
    frames it learns for; both are rescaled so that they match frame for frame."""
    import torch

    activation = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[config.get("activation", "relu")]
    hidden = list(config["hidden_sizes"])
    horizon = float(config["total_frames"])
    kwargs: dict = dict(n_envs=int(config["num_envs"]), gamma=float(config["gamma"]))
    if algo in ("ppo", "a2c"):
        rate = float(config["learning_rate"])
        if config["anneal_lr"]:
            # Colony: rate · (1 − frame / total_frames), floored at 0; SB3 passes 1 − frame / frames.
            kwargs["learning_rate"] = lambda remaining: rate * max(0.0, 1.0 - (1.0 - remaining) * frames / horizon)
        else:
            kwargs["learning_rate"] = rate
        kwargs.update(n_steps=int(config["n_steps"]), gae_lambda=float(config["gae_lambda"]), ent_coef=float(config["ent_coef"]),
                      vf_coef=float(config["vf_coef"]), max_grad_norm=float(config["max_grad_norm"]) or 1e9,
                      normalize_advantage=bool(config["normalize_advantage"]),
                      policy_kwargs=dict(net_arch=dict(pi=hidden, vf=hidden), activation_fn=activation,
                                         log_std_init=float(config["log_std_init"])))
        if config.get("normalize_observations") or config.get("normalize_rewards"):
            raise ValueError("observation/reward normalization is not translated (VecNormalize); compare without it")
        if algo == "ppo":
            kwargs.update(batch_size=int(config["batch_size"]), n_epochs=int(config["n_epochs"]), clip_range=float(config["clip_range"]),
                          clip_range_vf=float(config["clip_range_vf"]) or None, target_kl=float(config["target_kl"]) or None)
            kwargs["policy_kwargs"]["optimizer_kwargs"] = dict(eps=float(config["adam_epsilon"]))
        else:
            kwargs.update(rms_prop_eps=float(config["rms_prop_eps"]))
            kwargs["policy_kwargs"]["optimizer_kwargs"] = dict(alpha=float(config["rms_prop_alpha"]), eps=float(config["rms_prop_eps"]),
                                                              weight_decay=0)
    elif algo == "dqn":
        for key in ("double_q", "dueling", "prioritized_replay"):
            if config.get(key):
                raise ValueError(f"SB3's DQN has no {key}; compare without it")
        if int(config["n_step"]) != 1 or config["loss"] != "huber":
            raise ValueError("SB3's DQN uses 1-step returns and the Huber loss; compare with those")
        kwargs.update(learning_rate=float(config["learning_rate"]), batch_size=int(config["batch_size"]),
                      buffer_size=int(config["buffer_size"]), learning_starts=int(config["learning_starts"]),
                      train_freq=int(config["train_freq"]), gradient_steps=int(config["gradient_steps"]),
                      target_update_interval=int(config["target_update_interval"]), tau=float(config["tau"]),
                      exploration_initial_eps=float(config["exploration_initial_eps"]),
                      exploration_final_eps=float(config["exploration_final_eps"]),
                      exploration_fraction=min(1.0, float(config["exploration_fraction"]) * horizon / frames),
                      max_grad_norm=float(config["max_grad_norm"]) or 1e9,
                      policy_kwargs=dict(net_arch=hidden, optimizer_kwargs=dict(eps=float(config["adam_epsilon"]))))
    else:  # sac, td3, ddpg
        kwargs.update(learning_rate=float(config["learning_rate"]), batch_size=int(config["batch_size"]),
                      buffer_size=int(config["buffer_size"]), learning_starts=int(config["learning_starts"]),
                      train_freq=int(config["train_freq"]), gradient_steps=int(config["gradient_steps"]), tau=float(config["tau"]),
                      policy_kwargs=dict(net_arch=hidden, activation_fn=activation))
        if algo == "sac":
            kwargs["ent_coef"] = f"auto_{float(config['initial_alpha'])}" if config["autotune"] else float(config["alpha"])
        else:
            # Both add the noise to actions scaled to [-1, 1], so σ is in units of half the action range on either side.
            kwargs["action_noise"] = ("normal", float(config["exploration_noise"]))
            if algo == "ddpg" and int(config["policy_delay"]) != 1:
                raise ValueError("SB3's DDPG updates the actor at every critic update (policy_delay 1); compare with that")
            if algo == "td3":
                kwargs["policy_delay"] = int(config["policy_delay"])
                kwargs.update(target_policy_noise=float(config["target_policy_noise"]), target_noise_clip=float(config["target_noise_clip"]))
    return kwargs


def schedule(value):
    """`lin_x`: x decaying linearly to 0 over training (SB3 passes the remaining progress 1 → 0)."""
    if isinstance(value, str) and value.startswith("lin_"):
        start = float(value[4:])
        return lambda progress_remaining: progress_remaining * start
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", required=True, choices=SB3_ALGORITHMS)
    parser.add_argument("--env", required=True, help="Gymnasium id")
    parser.add_argument("--frames", type=int, required=True, help="environment frames (total_timesteps)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--colony-config", help="the Colony side's resolved configuration as JSON (instead of ZOO)")
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
        if arguments.colony_config is not None:
            hyperparameters = colony_hyperparameters(arguments.algo, json.loads(arguments.colony_config), arguments.frames)
            results["hyperparameters"] = "translated from Colony's configuration"
        elif key in ZOO:
            hyperparameters = dict(ZOO[key])
        else:
            raise ValueError(f"no zoo hyperparameters here for {arguments.algo} on {arguments.env}; known: {sorted(ZOO)}")
        n_envs = hyperparameters.pop("n_envs")
        if isinstance(hyperparameters.get("action_noise"), tuple):
            import numpy
            from stable_baselines3.common.noise import NormalActionNoise

            probe = gymnasium.make(arguments.env)
            dimensions = probe.action_space.shape[0]
            probe.close()
            sigma = hyperparameters["action_noise"][1]
            hyperparameters["action_noise"] = NormalActionNoise(numpy.zeros(dimensions), sigma * numpy.ones(dimensions))
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
