"""What adapters build codecs from (exported by ``pytest_codecbench``): Pillow codecs, torch models,
FFmpeg, Y'CbCr conversion, complexity counts, pretrained weights and their caches, transform coding
(contracts, combination, bitstream helpers) and adaptive arithmetic coding. No kit imports the plugin."""
