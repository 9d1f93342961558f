"""Public tests of week 6."""
import numpy as np

from dl_course.rl import advantages

POINTS = {'test_reward_to_go_matches_the_course': ('exercise 1: returns and advantages', 2),
          'test_reward_to_go_by_hand': ('exercise 1: returns and advantages', 1),
          'test_gae_matches_the_course': ('exercise 1: returns and advantages', 3)}


def _episode(seed=0, length=30):
  rng = np.random.default_rng(seed)
  return (rng.normal(size=length), rng.normal(size=length), rng.normal(size=length),
          (rng.random(length) < 0.15).astype(float), (rng.random(length) < 0.2).astype(float))


def test_reward_to_go_matches_the_course(submission):
  r, _, _, _, done = _episode()
  np.testing.assert_allclose(submission.reward_to_go(r, done, 0.95),
                             advantages.discounted_returns(r, done, 0.95), atol=1e-5)


def test_reward_to_go_by_hand(submission):
  np.testing.assert_allclose(submission.reward_to_go(np.array([1.0, 1.0, 1.0]),
                                                     np.array([0.0, 1.0, 0.0]), 0.5),
                             [1.5, 1.0, 1.0])


def test_gae_matches_the_course(submission):
  r, v, v_next, terminated, done = _episode(1)
  done = np.maximum(done, terminated)
  got = submission.gae(r, v, v_next, terminated, done, 0.99, 0.9)
  expected, _ = advantages.gae(r, v, v_next, terminated, done, 0.99, 0.9)
  np.testing.assert_allclose(got, expected, atol=1e-5)
