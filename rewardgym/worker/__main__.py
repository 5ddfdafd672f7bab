"""`python -m rewardgym.worker --family F --socket PATH`: the same as `rewardgym worker`."""

from rewardgym.worker.app import main

main()
