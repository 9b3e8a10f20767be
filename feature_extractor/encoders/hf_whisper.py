"""A transformers Whisper encoder (hub id or local folder) as a fine-tunable stage-1 audio encoder
(`model.audio.kind=hf` with a Whisper model; meant for GPUs, where it can be fine-tuned).

Input: padded 16 kHz waveforms [B, T] and their sample mask. The log-mel spectrogram is computed
here in torch with the folder's own mel filters and Whisper's rule (log10, floor at the maximum
minus 8, then (x + 4) / 4), the maximum taken over each utterance's real frames, so zero padding
gives what the utterance padded alone would give.

Why not `WhisperEncoder.forward`: it refuses any input but the padded 30-s window (3,000 mel
frames), which makes every utterance cost 30 s of audio. The encoder's own modules (two
convolutions, sinusoidal positions, layers, final norm) run here on the batch's length instead, so
the cost follows the longest utterance of the batch (at most 30 s). The layers see the padded
frames, as Whisper does within its window, so an utterance's vector depends on its batch's padding
(`batch_padding_invariant` is False: stage 2 batches it with equal-length utterances only)."""

import torch
from torch import nn
from transformers import AutoConfig, WhisperFeatureExtractor, WhisperModel

from feature_extractor.encoders.encoding import ModalityEncoding
from feature_extractor.encoders.freezable import FreezableEncoder
from feature_extractor.encoders.pooling import lengths_to_mask, pool
from feature_extractor.inputs.audio_io import SAMPLE_RATE


def is_whisper(name_or_path: str) -> bool:
    return AutoConfig.from_pretrained(name_or_path).model_type == "whisper"


class HFWhisperEncoder(FreezableEncoder):
    """`pretrained=False` builds the architecture from the folder's config only (random init);
    used when the weights come from a stage-1 export anyway."""

    batch_padding_invariant = False

    def __init__(self, name_or_path: str, layer: int = -1, freeze: bool = False,
                 gradient_checkpointing: bool = False, pretrained: bool = True):
        super().__init__()
        self.preprocessor = WhisperFeatureExtractor.from_pretrained(name_or_path)
        if self.preprocessor.sampling_rate != SAMPLE_RATE:
            raise ValueError(f"audio encoder {name_or_path}: expects {self.preprocessor.sampling_rate} Hz input; "
                             f"this pipeline feeds {SAMPLE_RATE} Hz")
        if pretrained:
            whole = WhisperModel.from_pretrained(name_or_path)
        else:
            whole = WhisperModel(AutoConfig.from_pretrained(name_or_path))
        self.model = whole.get_encoder()  # the decoder is not needed
        self.register_buffer("mel_filters", torch.as_tensor(self.preprocessor.mel_filters, dtype=torch.float32).T,
                             persistent=False)
        self.layer = layer
        self.configure_training(freeze, gradient_checkpointing)
        self.output_dim = self.model.config.d_model
        self.max_mel_frames = self.model.config.max_source_positions * 2


    def forward(self, waves: torch.Tensor, sample_mask: torch.Tensor) -> ModalityEncoding:
        with self.gradients():
            mel, mel_lengths = self.log_mel(waves, sample_mask)
            seq = self.encode_mel(mel)
            mask = lengths_to_mask(((mel_lengths + 1) // 2).clamp(1, seq.shape[1]), seq.shape[1])
            return ModalityEncoding(seq=seq, mask=mask, pooled=pool(seq, mask, "mean"))

    def log_mel(self, waves: torch.Tensor, sample_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """[B, n_mels, F] (F even, at most 30 s) and each row's count of real mel frames."""
        hop, n_fft = self.preprocessor.hop_length, self.preprocessor.n_fft
        window = torch.hann_window(n_fft, device=waves.device)
        stft = torch.stft(waves.float(), n_fft, hop, window=window, return_complex=True)
        power = stft[..., :-1].abs() ** 2
        log_spec = torch.clamp(self.mel_filters @ power, min=1e-10).log10()
        lengths = (sample_mask.sum(dim=1) // hop).clamp_min(1)
        real = lengths_to_mask(lengths.clamp_max(log_spec.shape[-1]), log_spec.shape[-1]).unsqueeze(1)
        peak = log_spec.masked_fill(~real, float("-inf")).amax(dim=(1, 2), keepdim=True)
        log_spec = (torch.maximum(log_spec, peak - 8.0) + 4.0) / 4.0
        log_spec = log_spec[..., : self.max_mel_frames]
        if log_spec.shape[-1] % 2:  # the stride-2 convolution wants an even frame count
            log_spec = nn.functional.pad(log_spec, (0, 1), value=float(log_spec.min()))
        return log_spec, lengths.clamp_max(self.max_mel_frames)

    def encode_mel(self, mel: torch.Tensor) -> torch.Tensor:
        """WhisperEncoder's computation on a window of any even length up to 3,000 mel frames."""
        encoder = self.model
        hidden = nn.functional.gelu(encoder.conv1(mel.to(encoder.conv1.weight.dtype)))
        hidden = nn.functional.gelu(encoder.conv2(hidden))
        hidden = hidden.permute(0, 2, 1) + encoder.embed_positions.weight[: hidden.shape[2]]
        hidden = nn.functional.dropout(hidden, p=encoder.config.dropout, training=self.training)
        states = [hidden]
        for encoder_layer in encoder.layers:
            hidden = encoder_layer(hidden, None)
            hidden = hidden[0] if isinstance(hidden, tuple) else hidden
            states.append(hidden)
        states[-1] = encoder.layer_norm(hidden)
        return states[self.layer]
