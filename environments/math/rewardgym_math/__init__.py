"""The math family: verifiers for math answers, hosted by one worker."""

from rewardgym.registry import Family

from rewardgym_math.arithmetic import ArithmeticEnv
from rewardgym_math.countdown import CountdownEnv
from rewardgym_math.equation import EquationEnv
from rewardgym_math.gsm8k import Gsm8kEnv
from rewardgym_math.integration import IntegrationEnv
from rewardgym_math.math_env import MathEnv
from rewardgym_math.multiple_choice import MultipleChoiceEnv
from rewardgym_math.polynomial_factor import PolynomialFactorEnv

FAMILY = Family(
    name="math",
    environments=(
        MathEnv,
        Gsm8kEnv,
        MultipleChoiceEnv,
        CountdownEnv,
        ArithmeticEnv,
        IntegrationEnv,
        EquationEnv,
        PolynomialFactorEnv,
    ),
)

__all__ = ["FAMILY"]
