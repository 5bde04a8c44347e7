"""`python -m training` and `torchrun --nproc_per_node N -m training ...`: the train command."""

from training.launch import main

raise SystemExit(main())
