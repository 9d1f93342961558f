"""Watching a trained agent: greedy episodes and a rendered rollout.

`greedy_returns` plays N episodes per trained seed with the policy's most
likely action (Algorithm.greedy), each episode from a fresh reset whose key is
fold_in(key(eval_seed), episode): the same episodes for every seed and every
call. `rollout` keeps one episode's environment states, and `render` draws
them with Pillow: CartPole, Acrobot, Pendulum and MountainCar from their
physical state, MinAtar games from their observation channels.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image, ImageDraw

from dl_course.rl import envs

WIDTH, HEIGHT = 240, 160
BACKGROUND, INK, ACCENT, PALE = (255, 255, 255), (40, 40, 40), (204, 85, 0), (160, 160, 160)


def _episode(algorithm, env, env_params, state, key):
  """(return, length, per-step env states, per-step alive flags) of one greedy episode."""
  reset_key, steps_key = jax.random.split(key)
  obs, env_state = env.reset(reset_key, env_params)
  horizon = int(env_params.max_steps_in_episode)

  def step(carry, step_key):
    obs, env_state, total, alive = carry
    next_obs, next_state, reward, terminated, truncated, _ = env.step(
        step_key, env_state, algorithm.greedy(state, obs), env_params)
    total = total + alive * reward
    still = alive * (1.0 - jnp.logical_or(terminated, truncated))
    return (next_obs, next_state, total, still), (env_state, obs, alive)

  (_, _, total, _), (states, observations, alive) = jax.lax.scan(
      step, (obs, env_state, jnp.zeros(()), jnp.ones(())), jax.random.split(steps_key, horizon))
  return total, jnp.sum(alive), states, observations, alive


def episode_keys(eval_seed: int, episodes: int):
  base = jax.random.PRNGKey(eval_seed)
  return jax.vmap(lambda i: jax.random.fold_in(base, i))(jnp.arange(episodes))


def greedy_returns(algorithm, env_name: str, states_S, episodes: int, eval_seed: int = 0):
  """(returns [S, episodes], lengths [S, episodes]) of greedy play for each seed's state."""
  env, env_params = envs.make(env_name)

  def one(state, key):
    total, length, *_ = _episode(algorithm, env, env_params, state, key)
    return total, length
  play = jax.jit(jax.vmap(jax.vmap(one, in_axes=(None, 0)), in_axes=(0, None)))
  returns, lengths = play(states_S, episode_keys(eval_seed, episodes))
  return np.asarray(returns), np.asarray(lengths)


def rollout(algorithm, env_name: str, state, eval_seed: int = 0):
  """One greedy episode of one seed's state: (env states, observations), each a
  pytree with a leading [T] axis, T the episode's length."""
  env, env_params = envs.make(env_name)
  total, length, states, observations, _ = jax.jit(
      lambda s, k: _episode(algorithm, env, env_params, s, k))(state, episode_keys(eval_seed, 1)[0])
  length = int(length)
  cut = lambda tree: jax.tree.map(lambda a: np.asarray(a)[:length], tree)
  return cut(states), cut(observations), float(total)


def _canvas():
  image = Image.new('RGB', (WIDTH, HEIGHT), BACKGROUND)
  return image, ImageDraw.Draw(image)


def _cartpole(state) -> Image.Image:
  image, draw = _canvas()
  scale = WIDTH / 6.0  # the track is ±2.4; a little room either side
  ground = HEIGHT - 40
  draw.line([(0, ground), (WIDTH, ground)], fill=PALE, width=2)
  cart_x = WIDTH / 2 + float(state.x) * scale
  draw.rectangle([cart_x - 20, ground - 14, cart_x + 20, ground], fill=INK)
  pole = 1.0 * scale  # gymnax's pole: half-length 0.5, drawn at full length
  theta = float(state.theta)
  draw.line([(cart_x, ground - 14),
             (cart_x + pole * math.sin(theta), ground - 14 - pole * math.cos(theta))],
            fill=ACCENT, width=6)
  return image


def _acrobot(state) -> Image.Image:
  image, draw = _canvas()
  centre, link = (WIDTH / 2, HEIGHT / 2), HEIGHT / 4.4
  a1, a2 = float(state.joint_angle1), float(state.joint_angle2)
  p1 = (centre[0] + link * math.sin(a1), centre[1] + link * math.cos(a1))
  p2 = (p1[0] + link * math.sin(a1 + a2), p1[1] + link * math.cos(a1 + a2))
  draw.line([(0, centre[1] - link), (WIDTH, centre[1] - link)], fill=PALE, width=1)  # the goal
  draw.line([centre, p1], fill=INK, width=6)
  draw.line([p1, p2], fill=ACCENT, width=6)
  return image


def _pendulum(state) -> Image.Image:
  image, draw = _canvas()
  centre, link = (WIDTH / 2, HEIGHT / 2), HEIGHT / 2.6
  theta = float(state.theta)  # 0 is upright
  tip = (centre[0] + link * math.sin(theta), centre[1] - link * math.cos(theta))
  draw.line([centre, tip], fill=ACCENT, width=8)
  draw.ellipse([centre[0] - 4, centre[1] - 4, centre[0] + 4, centre[1] + 4], fill=INK)
  return image


def _mountain_car(state) -> Image.Image:
  image, draw = _canvas()
  low, high = -1.2, 0.6
  to_x = lambda p: (p - low) / (high - low) * WIDTH
  to_y = lambda p: HEIGHT - 20 - (math.sin(3 * p) + 1) / 2 * (HEIGHT - 50)
  xs = np.linspace(low, high, 100)
  draw.line([(to_x(p), to_y(p)) for p in xs], fill=PALE, width=2)
  draw.line([(to_x(0.5), to_y(0.5)), (to_x(0.5), to_y(0.5) - 20)], fill=INK, width=2)  # flag
  position = float(state.position)
  x, y = to_x(position), to_y(position)
  draw.ellipse([x - 7, y - 14, x + 7, y], fill=ACCENT)
  return image


MINATAR_COLOURS = [(204, 85, 0), (40, 40, 40), (160, 160, 160), (0, 114, 178), (0, 158, 115),
                   (230, 159, 0), (86, 180, 233), (240, 228, 66), (213, 94, 0), (204, 121, 167)]


def _minatar(obs) -> Image.Image:
  grid = np.asarray(obs)
  pixels = np.full((*grid.shape[:2], 3), 255, np.uint8)
  for channel in range(grid.shape[2]):  # later channels drawn over earlier ones
    pixels[grid[..., channel] > 0] = MINATAR_COLOURS[channel % len(MINATAR_COLOURS)]
  cell = HEIGHT // grid.shape[0]
  image = Image.fromarray(pixels).resize((grid.shape[1] * cell, grid.shape[0] * cell),
                                         Image.Resampling.NEAREST)
  canvas, _ = _canvas()
  canvas.paste(image, ((WIDTH - image.width) // 2, 0))
  return canvas


RENDERERS = {'CartPole-v1': _cartpole, 'Acrobot-v1': _acrobot, 'Pendulum-v1': _pendulum,
             'MountainCar-v0': _mountain_car}


def render(env_name: str, states, observations) -> list[Image.Image]:
  """One frame per step of a rollout."""
  length = len(jax.tree.leaves(observations)[0])
  frames = []
  for t in range(length):
    if env_name.endswith('-MinAtar'):
      frames.append(_minatar(observations[t]))
    else:
      frames.append(RENDERERS[env_name](jax.tree.map(lambda a, t=t: a[t], states)))
  return frames


def save_gif(frames: list[Image.Image], path, fps: int = 30) -> None:
  frames[0].save(path, save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0)


def save_strip(frames: list[Image.Image], path, count: int = 8) -> None:
  """`count` frames evenly spaced over the episode, side by side."""
  picks = [frames[round(i * (len(frames) - 1) / max(count - 1, 1))]
           for i in range(min(count, len(frames)))]
  strip = Image.new('RGB', (WIDTH * len(picks), HEIGHT), BACKGROUND)
  for i, frame in enumerate(picks):
    strip.paste(frame, (i * WIDTH, 0))
  strip.save(path)
