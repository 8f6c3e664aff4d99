"""Call a flaky network operation again, waiting longer after each failure."""

import random
import time


def retry(operation, attempts=5, base_delay=0.5):
    """Run operation(); on ConnectionError sleep with exponential backoff and jitter, then try again."""
    for attempt in range(attempts):
        try:
            return operation()
        except ConnectionError:
            if attempt == attempts - 1:
                raise
            delay = base_delay * (2 ** attempt)
            time.sleep(delay + random.uniform(0, delay / 2))
