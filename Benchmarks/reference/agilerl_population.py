"""AgileRL's evolutionary HPO as the population benchmark's reference (colony-bench pbt).

Trains a DQN population with AgileRL's own train_off_policy (shared replay, tournament selection with
elitism, its documentation's mutation mix) until the elite's greedy fitness (20 episodes: test loop 5 on 4
environments) reaches --target, or --max-steps per member. AgileRL's own stopping rule waits for every member
to exceed the target over its last 10 evaluations; the benchmark asks when the elite first does, so that one
check (Population.should_stop) is replaced; training, evaluation, selection and mutation are AgileRL's.
--no-evolution trains the same population without selection and mutation. Prints one JSON object.
"""
import argparse
import importlib.metadata
import json
import random
import time

import gymnasium as gym
import numpy as np
import torch

import agilerl.population
from agilerl.algorithms.core.registry import HyperparameterConfig, RLParameter
from agilerl.components.replay_buffer import ReplayBuffer
from agilerl.hpo.mutation import Mutations
from agilerl.hpo.tournament import TournamentSelection
from agilerl.training.train_off_policy import train_off_policy
from agilerl.utils.utils import create_population


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--target", type=float, default=475)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--population", type=int, default=4)
    parser.add_argument("--evo-steps", type=int, default=10_000, help="frames each member trains between evolutions")
    parser.add_argument("--max-steps", type=int, default=100_000, help="frames per member before giving up")
    parser.add_argument("--num-envs", type=int, default=4)
    parser.add_argument("--eval-loop", type=int, default=5, help="test loops; each runs one episode per environment")
    parser.add_argument("--no-evolution", action="store_true")
    args = parser.parse_args()

    torch.set_num_threads(1)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    # Stop at the first evaluation where the elite reaches the target; count the evaluations.
    progress = {"generations": 0, "best": None, "reached": False}

    def should_stop(self, target):
        progress["generations"] += 1
        best = max(float(np.mean(agent.fitness[-1])) for agent in self._agents)
        progress["best"] = best
        progress["reached"] = best >= target
        return progress["reached"]

    agilerl.population.Population.should_stop = should_stop

    env = gym.vector.SyncVectorEnv([lambda: gym.make(args.env) for _ in range(args.num_envs)])
    env.reset(seed=args.seed)
    init_hp = {"DOUBLE": True, "BATCH_SIZE": 64, "LR": 1e-3, "GAMMA": 0.99, "LEARN_STEP": 1, "TAU": 1e-3, "POP_SIZE": args.population}
    net_config = {"encoder_config": {"hidden_size": [64, 64]}}
    hp_config = HyperparameterConfig(
        lr=RLParameter(min=1e-4, max=1e-2),
        batch_size=RLParameter(min=8, max=64, dtype=int),
        learn_step=RLParameter(min=1, max=16, dtype=int, grow_factor=1.5, shrink_factor=0.75),
    )
    population = create_population(
        "DQN", net_config, init_hp, observation_space=env.single_observation_space, action_space=env.single_action_space,
        hp_config=hp_config, population_size=args.population, num_envs=args.num_envs, device="cpu")
    memory = ReplayBuffer(max_size=100_000, device="cpu")
    tournament = mutations = None
    if not args.no_evolution:
        tournament = TournamentSelection(tournament_size=2, elitism=True, population_size=args.population)
        mutations = Mutations(no_mutation=0.4, architecture=0.2, new_layer_prob=0.2, parameters=0.2, activation=0, rl_hp=0.2,
                              mutation_sd=0.1, rand_seed=args.seed, device="cpu")
    start = time.perf_counter()
    train_off_policy(
        env, args.env, "DQN", population, memory, init_hp=init_hp, max_steps=args.max_steps, evo_steps=args.evo_steps,
        eval_loop=args.eval_loop, target=args.target, tournament=tournament, mutation=mutations, verbose=False)
    seconds = time.perf_counter() - start
    print(json.dumps({
        "reached": 1.0 if progress["reached"] else 0.0,
        "global_frames": float(progress["generations"] * args.evo_steps * args.population),
        "seconds": seconds,
        "best_fitness": progress["best"] if progress["best"] is not None else float("nan"),
        "agilerl_version": importlib.metadata.version("agilerl"),
        "torch_version": importlib.metadata.version("torch"),
    }))


if __name__ == "__main__":
    main()
