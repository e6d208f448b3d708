from qa_pipeline.cli import main

main()
