"""Reference networks with PyTorch on the CPU: the Nature-DQN CNN (4x84x84 uint8 -> 32 8x8/4 -> 64 4x4/2 -> 64 3x3/1 ->
512 -> 6) and the IMPALA ResNet (CleanRL's ConvSequence x (16, 32, 32), ReLU, 3872 -> 256 -> 6): forward passes
(no_grad, batch 1 and 32) and forward+backward (batch 256) in samples/s, uint8 frames / 255 inside the forward as
CleanRL's Atari agents do. Arguments: seconds, threads. Prints one JSON object."""
import json
import sys
import time

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 1
try:
    import torch
except Exception as error:
    print(json.dumps({"notes": [f"torch unavailable: {error}"]}))
    sys.exit(0)

torch.set_num_threads(THREADS)
torch.manual_seed(0)
net = torch.nn.Sequential(
    torch.nn.Conv2d(4, 32, 8, stride=4), torch.nn.ReLU(), torch.nn.Conv2d(32, 64, 4, stride=2), torch.nn.ReLU(),
    torch.nn.Conv2d(64, 64, 3, stride=1), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(3136, 512), torch.nn.ReLU(),
    torch.nn.Linear(512, 6),
)



class ResidualBlock(torch.nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv0 = torch.nn.Conv2d(channels, channels, 3, padding=1)
        self.conv1 = torch.nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return x + self.conv1(torch.relu(self.conv0(torch.relu(x))))


def conv_sequence(inputs, channels):
    return [torch.nn.Conv2d(inputs, channels, 3, padding=1), torch.nn.MaxPool2d(3, stride=2, padding=1),
            ResidualBlock(channels), ResidualBlock(channels)]


impala = torch.nn.Sequential(
    *conv_sequence(4, 16), *conv_sequence(16, 32), *conv_sequence(32, 32), torch.nn.Flatten(), torch.nn.ReLU(),
    torch.nn.Linear(3872, 256), torch.nn.ReLU(), torch.nn.Linear(256, 6),
)


def frames(batch):
    return torch.randint(0, 256, (batch, 4, 84, 84), dtype=torch.uint8)


def rate(body, samples):
    for _ in range(3):
        body()
    count, start = 0, time.perf_counter()
    while True:
        body()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= SECONDS:
            return count * samples / elapsed


def forward(model, batch):
    x = frames(batch)

    def body():
        with torch.no_grad():
            model(x.float() / 255.0)

    return rate(body, batch)


x256, g256 = frames(256), torch.randn(256, 6)


def train(model):
    def body():
        model.zero_grad(set_to_none=True)
        model(x256.float() / 255.0).backward(g256)

    return rate(body, 256)


print(json.dumps({
    "torch_forward_1": forward(net, 1), "torch_forward_32": forward(net, 32), "torch_train_256": train(net),
    "torch_impala_forward_1": forward(impala, 1), "torch_impala_forward_32": forward(impala, 32),
    "torch_impala_train_256": train(impala),
    "torch_version": torch.__version__, "threads": THREADS, "notes": [],
}))
