"""PyTorch definitions of the networks RangeSeg re-implements, for the parity fixtures.

Written for RangeSeg from the structure of the official code (PRBonn/lidar-bonnetal's
train/backbones/darknet.py, train/tasks/semantic/decoders/darknet.py and the head of
train/tasks/semantic/modules/segmentator.py; TiagoCortinhal/SalsaNext's
train/tasks/semantic/modules/SalsaNext.py): the same layers, order, hyper-parameters and
state_dict names, at output stride 32, without the softmax the official modules end with.
Not a project dependency: needs PyTorch (see tools/network_parity.py).
"""
from collections import OrderedDict

import torch
from torch import nn


# ---------------------------------------------------------------------------------------------
# RangeNet++ DarkNet: names backbone.*, decoder.*, head.* as the three official files.

class DarkBlock(nn.Module):
    """1x1 conv channels -> hidden, 3x3 back, each bn + leaky 0.1, plus the input."""

    def __init__(self, channels, hidden, momentum):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, hidden, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(hidden, momentum=momentum)
        self.relu1 = nn.LeakyReLU(0.1)
        self.conv2 = nn.Conv2d(hidden, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels, momentum=momentum)
        self.relu2 = nn.LeakyReLU(0.1)

    def forward(self, x):
        return self.relu2(self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))) + x


class DarkBackbone(nn.Module):
    def __init__(self, blocks, inputs=5, dropout=0.01, momentum=0.01):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, 32, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32, momentum=momentum)
        self.relu1 = nn.LeakyReLU(0.1)
        widths = [32, 64, 128, 256, 512, 1024]
        for i, count in enumerate(blocks):
            cin, cout = widths[i], widths[i + 1]
            layers = [("conv", nn.Conv2d(cin, cout, 3, stride=(1, 2), padding=1, bias=False)),
                      ("bn", nn.BatchNorm2d(cout, momentum=momentum)), ("relu", nn.LeakyReLU(0.1))]
            layers += [(f"residual_{j}", DarkBlock(cout, cin, momentum)) for j in range(count)]
            setattr(self, f"enc{i + 1}", nn.Sequential(OrderedDict(layers)))
        self.dropout = nn.Dropout2d(dropout)

    def forward(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        skips = [x.detach()]
        for i in range(1, 6):
            x = self.dropout(getattr(self, f"enc{i}")(x))
            skips.append(x.detach())
        return x, skips[:-1]


class DarkDecoder(nn.Module):
    def __init__(self, dropout=0.01, momentum=0.01):
        super().__init__()
        for name, cin, cout in [("dec5", 1024, 512), ("dec4", 512, 256), ("dec3", 256, 128), ("dec2", 128, 64), ("dec1", 64, 32)]:
            setattr(self, name, nn.Sequential(OrderedDict([
                ("upconv", nn.ConvTranspose2d(cin, cout, (1, 4), stride=(1, 2), padding=(0, 1))),
                ("bn", nn.BatchNorm2d(cout, momentum=momentum)), ("relu", nn.LeakyReLU(0.1)),
                ("residual", DarkBlock(cout, cin, momentum))])))
        self.dropout = nn.Dropout2d(dropout)

    def forward(self, x, skips):
        for name in ["dec5", "dec4", "dec3", "dec2", "dec1"]:
            x = getattr(self, name)(x) + skips.pop().detach()
        return self.dropout(x)


class DarkNet(nn.Module):
    def __init__(self, layers=21, classes=20, dropout=0.01):
        super().__init__()
        blocks = {21: [1, 1, 2, 2, 1], 53: [1, 2, 8, 8, 4]}[layers]
        self.backbone = DarkBackbone(blocks, dropout=dropout)
        self.decoder = DarkDecoder(dropout=dropout)
        self.head = nn.Sequential(nn.Dropout2d(dropout), nn.Conv2d(32, classes, 3, padding=1))

    def forward(self, x):
        y, skips = self.backbone(x)
        return self.head(self.decoder(y, skips))


# ---------------------------------------------------------------------------------------------
# SalsaNext: conv -> LeakyReLU(0.01) -> batch norm (momentum 0.1), biases everywhere.

def _act():
    return nn.LeakyReLU(0.01)


class ResContextBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1, self.act1 = nn.Conv2d(cin, cout, 1), _act()
        self.conv2, self.act2, self.bn1 = nn.Conv2d(cout, cout, 3, padding=1), _act(), nn.BatchNorm2d(cout)
        self.conv3, self.act3, self.bn2 = nn.Conv2d(cout, cout, 3, dilation=2, padding=2), _act(), nn.BatchNorm2d(cout)

    def forward(self, x):
        shortcut = self.act1(self.conv1(x))
        a = self.bn1(self.act2(self.conv2(shortcut)))
        return shortcut + self.bn2(self.act3(self.conv3(a)))


class ResBlock(nn.Module):
    def __init__(self, cin, cout, p, pooling=True, drop_out=True):
        super().__init__()
        self.pooling, self.drop_out = pooling, drop_out
        self.conv1, self.act1 = nn.Conv2d(cin, cout, 1), _act()
        self.conv2, self.act2, self.bn1 = nn.Conv2d(cin, cout, 3, padding=1), _act(), nn.BatchNorm2d(cout)
        self.conv3, self.act3, self.bn2 = nn.Conv2d(cout, cout, 3, dilation=2, padding=2), _act(), nn.BatchNorm2d(cout)
        self.conv4, self.act4, self.bn3 = nn.Conv2d(cout, cout, 2, dilation=2, padding=1), _act(), nn.BatchNorm2d(cout)
        self.conv5, self.act5, self.bn4 = nn.Conv2d(3 * cout, cout, 1), _act(), nn.BatchNorm2d(cout)
        self.dropout = nn.Dropout2d(p)
        if pooling:
            self.pool = nn.AvgPool2d(3, stride=2, padding=1)

    def forward(self, x):
        shortcut = self.act1(self.conv1(x))
        a1 = self.bn1(self.act2(self.conv2(x)))
        a2 = self.bn2(self.act3(self.conv3(a1)))
        a3 = self.bn3(self.act4(self.conv4(a2)))
        a = shortcut + self.bn4(self.act5(self.conv5(torch.cat((a1, a2, a3), 1))))
        b = self.dropout(a) if self.drop_out else a
        return (self.pool(b), a) if self.pooling else b


class UpBlock(nn.Module):
    def __init__(self, cin, cout, p, drop_out=True):
        super().__init__()
        self.drop_out = drop_out
        self.dropout1, self.dropout2, self.dropout3 = nn.Dropout2d(p), nn.Dropout2d(p), nn.Dropout2d(p)
        self.conv1, self.act1, self.bn1 = nn.Conv2d(cin // 4 + 2 * cout, cout, 3, padding=1), _act(), nn.BatchNorm2d(cout)
        self.conv2, self.act2, self.bn2 = nn.Conv2d(cout, cout, 3, dilation=2, padding=2), _act(), nn.BatchNorm2d(cout)
        self.conv3, self.act3, self.bn3 = nn.Conv2d(cout, cout, 2, dilation=2, padding=1), _act(), nn.BatchNorm2d(cout)
        self.conv4, self.act4, self.bn4 = nn.Conv2d(3 * cout, cout, 1), _act(), nn.BatchNorm2d(cout)

    def forward(self, x, skip):
        up = nn.functional.pixel_shuffle(x, 2)
        if self.drop_out:
            up = self.dropout1(up)
        up = torch.cat((up, skip), 1)
        if self.drop_out:
            up = self.dropout2(up)
        e1 = self.bn1(self.act1(self.conv1(up)))
        e2 = self.bn2(self.act2(self.conv2(e1)))
        e3 = self.bn3(self.act3(self.conv3(e2)))
        e = self.bn4(self.act4(self.conv4(torch.cat((e1, e2, e3), 1))))
        return self.dropout3(e) if self.drop_out else e


class SalsaNext(nn.Module):
    def __init__(self, classes=20, p=0.2):
        super().__init__()
        self.downCntx = ResContextBlock(5, 32)
        self.downCntx2 = ResContextBlock(32, 32)
        self.downCntx3 = ResContextBlock(32, 32)
        self.resBlock1 = ResBlock(32, 64, p, pooling=True, drop_out=False)
        self.resBlock2 = ResBlock(64, 128, p)
        self.resBlock3 = ResBlock(128, 256, p)
        self.resBlock4 = ResBlock(256, 256, p)
        self.resBlock5 = ResBlock(256, 256, p, pooling=False)
        self.upBlock1 = UpBlock(256, 128, p)
        self.upBlock2 = UpBlock(128, 128, p)
        self.upBlock3 = UpBlock(128, 64, p)
        self.upBlock4 = UpBlock(64, 32, p, drop_out=False)
        self.logits = nn.Conv2d(32, classes, 1)

    def forward(self, x):
        c = self.downCntx3(self.downCntx2(self.downCntx(x)))
        d0c, d0b = self.resBlock1(c)
        d1c, d1b = self.resBlock2(d0c)
        d2c, d2b = self.resBlock3(d1c)
        d3c, d3b = self.resBlock4(d2c)
        d5c = self.resBlock5(d3c)
        u = self.upBlock4(self.upBlock3(self.upBlock2(self.upBlock1(d5c, d3b), d2b), d1b), d0b)
        return self.logits(u)


NETWORKS = {
    "darknet21": lambda dropout=0.01: DarkNet(21, dropout=dropout),
    "darknet53": lambda dropout=0.01: DarkNet(53, dropout=dropout),
    "salsanext": lambda dropout=0.2: SalsaNext(p=dropout),
}
