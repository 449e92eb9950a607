"""Container parsers that measure audio duration from the data itself.

Each module reads one container from ``bytes`` and returns an ``AudioInfo``. They are written
here rather than taken from mutagen because mutagen (like most tag libraries) reports the one
header field a client controls: WAV's data size, MP3's Xing frame count or a first-frame
bitrate estimate, FLAC's STREAMINFO total, Ogg's last granule, MP4's ``mdhd`` duration and
Matroska's Segment ``Duration``. For billing we count what a decoder would play: PCM bytes,
MP3 frames, chained FLAC frame headers, Ogg granules and Opus packet TOCs, MP4 sample tables
and Matroska block timestamps. mutagen stays in the tests as an independent oracle.
"""
