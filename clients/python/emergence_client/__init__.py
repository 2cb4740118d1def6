"""Python client for the emergence prediction service (standard library only; tqdm optional).

    from emergence_client import Client, describe
    c = Client("http://127.0.0.1:8080", token=None)
    c.create_study("mmlu", chance=0.25, shots=5, exist_ok=True)
    c.upload("mmlu", "results.json", checkpoint="step143000", pretrain_loss=2.43, flops=2.9e20)
    print(describe(c.fit("mmlu", seed=1)))
"""

from .client import Client, Response, TERMINAL_STATUSES
from .errors import EmergenceConnectionError, EmergenceError, FitFailed, WaitTimeout
from .retry import RetryPolicy
from .words import describe

__version__ = "0.1.0"

__all__ = ["Client", "Response", "RetryPolicy", "EmergenceError", "EmergenceConnectionError", "FitFailed",
           "WaitTimeout", "TERMINAL_STATUSES", "describe", "__version__"]
