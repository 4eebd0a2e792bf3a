"""Reference MLP 4-64-64-2 (tanh) on one CPU thread with PyTorch: Adam updates/s at batch 256 and
single-observation forward passes/s (no_grad, as an actor acts). Prints one JSON object."""
import json
import sys
import time

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
try:
    import torch
except Exception as error:
    print(json.dumps({"notes": [f"torch unavailable: {error}"]}))
    sys.exit(0)

torch.set_num_threads(1)
torch.manual_seed(0)
net = torch.nn.Sequential(
    torch.nn.Linear(4, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, 2)
)
optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
x = torch.randn(256, 4)
y = torch.randn(256, 2)


def rate(body):
    count, start = 0, time.perf_counter()
    while True:
        for _ in range(50):
            body()
        count += 50
        elapsed = time.perf_counter() - start
        if elapsed >= SECONDS:
            return count / elapsed


def update():
    optimizer.zero_grad(set_to_none=True)
    loss = ((net(x) - y) ** 2).mean()
    loss.backward()
    optimizer.step()


single = torch.randn(1, 4)


def forward():
    with torch.no_grad():
        net(single)


print(json.dumps({"torch_adam_updates": rate(update), "torch_single_forwards": rate(forward), "torch_version": torch.__version__, "notes": []}))
